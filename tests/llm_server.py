"""A scriptable OpenAI-compatible chat server on 127.0.0.1 for tests (real HTTP, real SSE).

    with FakeLLM() as llm:
        llm.script(reply("答案[1]。"), status(429), cut_stream(["a", "b", "c"], after_n_chunks=2))
        settings = Settings(openai_base_url=llm.base_url, llm_model="fake", ...)
        ...
        assert llm.requests[0]["messages"][0]["role"] == "system"

Each POST /v1/chat/completions consumes the next scripted behaviour; when none is left the
server answers 500, so an unexpected extra call fails loudly. Every request body is recorded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from rag.types import ArticleMeta, Chunk, Hit

# --- behaviours -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A complete answer: JSON for a plain request, one content chunk for a streaming one."""

    text: str
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Stream:
    """An answer in these content chunks; a plain request gets them joined.

    ``finish_reason=None`` and ``done=False`` end the stream cleanly but incompletely.
    ``stall_after`` / ``stall_seconds`` pause the stream after that many content chunks.
    """

    chunks: tuple[str, ...]
    finish_reason: str | None = "stop"
    done: bool = True
    stall_after: int | None = None
    stall_seconds: float = 0.0


@dataclass(frozen=True)
class Delay:
    """Wait before doing ``then`` (for client timeouts)."""

    seconds: float
    then: Behaviour


@dataclass(frozen=True)
class Status:
    """An HTTP error with an OpenAI-style error body."""

    code: int
    message: str
    type: str


@dataclass(frozen=True)
class CutStream:
    """Send ``after`` content chunks of a stream, then close the socket mid-body (no [DONE])."""

    chunks: tuple[str, ...]
    after: int


@dataclass(frozen=True)
class Raw:
    """Answer 200 with this body as it is, for a plain and a streaming request alike (a garbled reply)."""

    body: bytes
    content_type: str = "application/json"


Behaviour = Reply | Stream | Delay | Status | CutStream | Raw


# Bodies of a 200 that are not a chat completion, as a misconfigured proxy or a broken model server
# sends them: name -> (body, content type).
GARBLED: dict[str, tuple[bytes, str]] = {
    "html": (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "html_as_json": (b"<html><body>Service Unavailable</body></html>", "application/json"),
    "json_list": (b'[{"choices": []}]', "application/json"),
    "truncated_json": (b'{"id": "x", "object": "chat.completion", "choices": [{"index": 0, "mess', "application/json"),
    "non_string_content": (
        b'{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": '
        b'[{"index": 0, "message": {"role": "assistant", "content": {"text": 42}}, "finish_reason": "stop"}]}',
        "application/json",
    ),
    "choices_not_list": (b'{"id": "x", "object": "chat.completion", "choices": "oops"}', "application/json"),
    "sse_garbage": (b"data: {not json\n\ndata: [DONE]\n\n", "text/event-stream"),
    "sse_content_list": (
        b'data: {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": '
        b'[{"index": 0, "delta": {"content": [1, 2]}, "finish_reason": null}]}\n\ndata: [DONE]\n\n',
        "text/event-stream",
    ),
}


def garbled(kind: str) -> Raw:
    """A 200 whose body is not a chat completion (see :data:`GARBLED`)."""
    body, content_type = GARBLED[kind]
    return Raw(body, content_type)


def reply(text: str, finish_reason: str = "stop") -> Reply:
    """Answer with ``text``."""
    return Reply(text, finish_reason)


def stream(
    chunks: list[str] | tuple[str, ...],
    finish_reason: str | None = "stop",
    done: bool = True,
    stall_after: int | None = None,
    stall_seconds: float = 0.0,
) -> Stream:
    """Answer in these chunks (see :class:`Stream`)."""
    return Stream(tuple(chunks), finish_reason, done, stall_after, stall_seconds)


def delay(seconds: float, then: Behaviour | None = None) -> Delay:
    """Wait ``seconds`` before behaving like ``then`` (default: a short reply)."""
    return Delay(seconds, then if then is not None else reply("迟到的回答。"))


def status(code: int, message: str | None = None) -> Status:
    """Fail with HTTP ``code`` and an OpenAI-style error body."""
    kind = {429: "rate_limit_error", 401: "invalid_request_error", 400: "invalid_request_error"}.get(
        code, "server_error"
    )
    return Status(code, message or f"fake llm error {code}", kind)


def cut_stream(chunks: list[str] | tuple[str, ...], after_n_chunks: int) -> CutStream:
    """Stream ``after_n_chunks`` of ``chunks``, then drop the connection."""
    return CutStream(tuple(chunks), after_n_chunks)


# --- server -----------------------------------------------------------------------------


@dataclass
class _State:
    behaviours: deque[Behaviour] = field(default_factory=deque)
    requests: list[dict] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    counter: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like a real endpoint
    timeout = 30  # an idle keep-alive connection does not hold its thread forever
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    # --- plumbing -----------------------------------------------------------------------
    def _send_json(self, code: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_event(self, payload: dict | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self._send_chunk(f"data: {data}\n\n".encode())

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, cid: str, model: str, delta: dict, finish_reason: str | None) -> dict:
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    # --- behaviours ---------------------------------------------------------------------
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            error = {"message": f"no route {self.path}", "type": "invalid_request_error"}
            self._send_json(404, {"error": error})
            return
        body = json.loads(raw or b"{}")
        state = self.server.state
        with state.lock:
            state.requests.append(body)
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            state.counter += 1
            cid = f"chatcmpl-fake-{state.counter}"
            behaviour: Behaviour = (
                state.behaviours.popleft() if state.behaviours else status(500, "fake llm: no scripted behaviour left")
            )
        try:
            self._behave(behaviour, body, cid)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout): nothing left to send to.
            self.close_connection = True

    def _behave(self, behaviour: Behaviour, body: dict, cid: str) -> None:
        model = str(body.get("model", "fake"))
        streaming = bool(body.get("stream"))
        if isinstance(behaviour, Delay):
            if self.server.state.stopping.wait(behaviour.seconds):
                self.close_connection = True
                return
            self._behave(behaviour.then, body, cid)
        elif isinstance(behaviour, Status):
            error = {"message": behaviour.message, "type": behaviour.type, "param": None, "code": None}
            self._send_json(behaviour.code, {"error": error})
        elif isinstance(behaviour, Reply):
            if streaming:
                self._stream(cid, model, Stream((behaviour.text,), behaviour.finish_reason))
            else:
                self._complete(cid, model, behaviour.text, behaviour.finish_reason)
        elif isinstance(behaviour, Stream):
            if streaming:
                self._stream(cid, model, behaviour)
            else:
                self._complete(cid, model, "".join(behaviour.chunks), behaviour.finish_reason or "stop")
        elif isinstance(behaviour, Raw):
            self.send_response(200)
            self.send_header("Content-Type", behaviour.content_type)
            self.send_header("Content-Length", str(len(behaviour.body)))
            self.end_headers()
            self.wfile.write(behaviour.body)
        elif isinstance(behaviour, CutStream):
            self._start_sse()
            self._send_event(self._chunk(cid, model, {"role": "assistant", "content": ""}, None))
            for text in behaviour.chunks[: behaviour.after]:
                self._send_event(self._chunk(cid, model, {"content": text}, None))
            # Drop the connection without the terminating chunk: the client sees a body cut short.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _complete(self, cid: str, model: str, text: str, finish_reason: str) -> None:
        self._send_json(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10 + len(text)},
            },
        )

    def _stream(self, cid: str, model: str, spec: Stream) -> None:
        self._start_sse()
        self._send_event(self._chunk(cid, model, {"role": "assistant", "content": ""}, None))
        for i, text in enumerate(spec.chunks):
            stall = spec.stall_after is not None and i == spec.stall_after
            if stall and self.server.state.stopping.wait(spec.stall_seconds):
                self.close_connection = True
                return
            self._send_event(self._chunk(cid, model, {"content": text}, None))
        if spec.finish_reason is not None:
            self._send_event(self._chunk(cid, model, {}, spec.finish_reason))
        if spec.done:
            self._send_event("[DONE]")
        self._end_chunked()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # handlers stalled on purpose must not hold up stop()

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeLLM:
    """The fake endpoint: a context manager that serves on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind a free port and serve in a background thread."""
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled handlers wake up and exit."""
        self._state.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, as OPENAI_BASE_URL expects."""
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *behaviours: Behaviour) -> Self:
        """Queue behaviours; each request consumes the next one."""
        with self._state.lock:
            self._state.behaviours.extend(behaviours)
        return self

    @property
    def requests(self) -> list[dict]:
        """JSON bodies of every chat request received, in order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        """Lower-cased headers of every chat request received, in order."""
        with self._state.lock:
            return list(self._state.headers)

    @property
    def pending(self) -> int:
        """Scripted behaviours not yet consumed."""
        with self._state.lock:
            return len(self._state.behaviours)


# --- real passages ------------------------------------------------------------------------

_ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
# (file, title, author, date, passage): sentences copied verbatim from the sample corpus.
_PASSAGES = (
    (
        "000_5a2e0df921d3d455.txt",
        "从Web2到Web3，产业互联网进入_争气_时代？",
        "人人都是产品经理",
        "2022-07-08",
        (
            "今年是我混产业互联网的第8年。说实话，一开始我都不知道自己上了2B的船，直到发现大家都在做2C，"
            "而我压根挤不进去，于是向命运低下了头。"
        ),
    ),
    (
        "001_e3c7ae41c0c3d234.txt",
        "当元宇宙遇上产业互联网",
        "人人都是产品经理",
        "2021-11-20",
        (
            "当元宇宙与产业互联网相遇，我们看到的是一个完全与以往不同的产业互联网。对于产业互联网来讲，"
            "元宇宙如同一场春雨，一个样板，一次深井钻探。经历了这个阶段之后，产业互联网的能量才能得到充分释放，"
            "产业互联网的面目才能真正来到人们面前。"
        ),
    ),
    (
        "004_583eba2efe438635.txt",
        "风口频出下,产业互联网的脚步近了",
        "孟永辉",
        None,
        (
            "以往,当我们谈及产业互联网的时候,通常会将它看成是一种获取另外一种流量的方式和方法,"
            "以此来填补消费互联网时代的缺憾。因为在消费互联网时代,玩家们更多地改变的是C端消费者,"
            "却并未改变B端产业端。在这种背景下,产业互联网开始担负起了改造B端的使命。"
        ),
    ),
    (
        "003_70190b60f0223078.txt",
        "产业互联网的画卷，正徐徐展开",
        None,
        None,
        (
            "相对于C端的盲目，B端的流量更加理性，更加实际。它们追求的是更为长远，更为可持续的产品和服务。"
            "比如，是否真正改造了生产方式；比如，是否产生了新的产品……"
        ),
    ),
)


def sample_hits(extra_text: dict[int, str] | None = None) -> list[Hit]:
    """Four hits over real passages of data/articles, ranked 1..4.

    ``extra_text`` appends text to passage ``i`` (0-based), e.g. an injection attempt.
    Offsets are where the passage sits in the raw file, which also proves it is real.
    """
    hits = []
    for i, (name, title, author, date, text) in enumerate(_PASSAGES):
        raw = (_ARTICLES / name).read_text(encoding="utf-8")
        start = raw.index(text)  # ValueError if the corpus changed under the test
        body = text + (extra_text or {}).get(i, "")
        article_id = name.removesuffix(".txt")
        meta = ArticleMeta(article_id=article_id, source=name, title=title, author=author, date=date)
        chunk = Chunk(
            chunk_id=f"{article_id}:{i}",
            article_id=article_id,
            ordinal=i,
            text=body,
            start=start,
            end=start + len(text),
        )
        hits.append(Hit(rank=i + 1, score=round(0.9 - 0.1 * i, 6), chunk=chunk, article=meta))
    return hits
