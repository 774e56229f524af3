"""Stream a ``multipart/form-data`` upload straight into the corpus folder, each file bounded in size.

Starlette's form parser spools files to the system temp folder before the route sees them; this
parser hands every part to ``Corpus.start_upload`` as it arrives, so an oversized file is dropped
while it streams (the others are kept) and nothing is written outside the corpus folder.
"""

from __future__ import annotations

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import ApiError
from ingest.documents import Corpus, DocumentError, Upload


def upload_budget(max_bytes: int, max_files: int) -> int:
    """Largest whole request: every file at its limit plus room for the multipart framing."""
    return max_bytes * max_files + 1024 * 1024


async def receive_uploads(request: Request, corpus: Corpus, max_files: int) -> tuple[list[dict], list[dict]]:
    """Save the request's files; returns ``(saved, rejected)``, each rejected file with its reason."""
    media, params = parse_options_header(request.headers.get("content-type", ""))
    if media != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(415, "unsupported_media_type", "请用 multipart/form-data 上传文件（字段名 files）。")
    budget = upload_budget(corpus.max_bytes, max_files)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > budget:
        raise ApiError(413, "body_too_large", f"上传内容太大，一次最多 {budget // (1024 * 1024)} MB。")

    saved: list[dict] = []
    rejected: list[dict] = []
    state: dict = {"disposition": b"", "field": b"", "value": b"", "files": 0}
    current: list[Upload | None] = [None]

    def on_part_begin() -> None:
        state["disposition"] = b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if state["field"].lower() == b"content-disposition":
            state["disposition"] = state["value"]
        state["field"] = state["value"] = b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(state["disposition"])
        if b"filename" not in options:
            return  # a plain form field: ignored
        name = options[b"filename"].decode("utf-8", "replace")[:200]
        state["files"] += 1
        if state["files"] > max_files:
            rejected.append({"name": name, "reason": f"一次最多上传 {max_files} 个文件"})
            return
        try:
            current[0] = corpus.start_upload(name)
        except DocumentError as exc:
            rejected.append({"name": name, "reason": exc.reason})
        state["name"] = name

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current[0] is not None:
            current[0].write(data[start:end])

    def on_part_end() -> None:
        upload, current[0] = current[0], None
        if upload is None:
            return
        try:
            saved.append(upload.commit())
        except DocumentError as exc:
            rejected.append({"name": state["name"], "reason": exc.reason})

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    })
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > budget:
                raise ApiError(413, "body_too_large", f"上传内容太大，一次最多 {budget // (1024 * 1024)} MB。")
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise ApiError(400, "invalid_multipart", "上传的数据格式错误。") from exc
    finally:
        # A cut-off or refused request: the file being received is dropped, finished ones stay.
        if current[0] is not None:
            current[0].discard()
    if state["files"] == 0:
        raise ApiError(400, "no_files", "请求中没有文件（字段名 files）。")
    return saved, rejected
