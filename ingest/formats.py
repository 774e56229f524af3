"""PDF and Word (DOCX) articles: text in reading order without page furniture, title and author."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass

from ingest.loaders import RawDoc, SkipFile

# A header or footer sits in this share of the page height at the top or the bottom, is the
# outermost text there (within _EDGE_SLACK points) and is short.
_MARGIN_BAND = 0.1
_EDGE_SLACK = 2.0
_FURNITURE_MAX = 100
# Page numbers in their common written forms: "3", "- 3 -", "第 3 页", "3 / 12", "第3页 共12页", "Page 3 of 12".
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*(?:[/／]|of|共)\s*\d{1,4}(?:\s*页)?)?[-–—\s]*$"
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$",
    re.I,
)
# The page number inside a running header or footer ("第 3 页", "3/12", "Page 3 of 12", a number at
# either end): blanked so that the line repeats from page to page. Numbers elsewhere are kept, so
# paragraphs that differ only by a number in the middle are not mistaken for one running line.
_PAGE_NUMBER_PART = re.compile(
    r"第\s*\d+\s*页|共\s*\d+\s*页|\d+\s*[/／]\s*\d+|page\s*\d+(?:\s*of\s*\d+)?|^\d+\s*|\s*\d+$", re.I
)
_CJK_END = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]$")
_CJK_START = re.compile(r"^[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Word processors and PDF printers that put their own name where the author belongs.
_TOOL_AUTHORS = {"python-docx", "microsoft office user", "administrator", "admin", "user", "unknown", "作者"}


def _need(module: str, package: str):
    """Import an optional format library, or say which extra brings it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SkipFile(f"缺少 {package}：请安装 formats 扩展（pip install 'rag-zh[formats]'）") from exc


def join_lines(lines: list[str]) -> str:
    """Join the visual lines of one paragraph: no space between CJK characters, one between words."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if out and not (_CJK_END.search(out) or _CJK_START.search(line)):
            out += " "
        out += line
    return out


@dataclass(frozen=True)
class _Box:
    page: int
    text: str
    in_margin: bool


def _is_furniture(box: _Box, repeats: Counter, pages: int) -> bool:
    """A running header or footer: in the top or bottom band, and a page number or repeated on pages."""
    if not box.in_margin:
        return False
    if _PAGE_NUMBER.match(box.text):
        return True
    return pages >= 2 and repeats[_PAGE_NUMBER_PART.sub("#", box.text)] >= 2


def read_pdf(data: bytes) -> RawDoc:
    """Text of a PDF's text layer in reading order, one line per paragraph; SkipFile for scans and damage."""
    _need("pdfminer", "pdfminer.six")
    # pdfminer logs a warning per glyph of fonts without a bounding box (Chromium's subsets).
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError

    boxes: list[_Box] = []
    found: list[tuple[float, float, str]] = []
    pages = 0
    try:
        for page in extract_pages(io.BytesIO(data), laparams=LAParams()):
            pages += 1
            band = page.height * _MARGIN_BAND
            for element in page:
                if not isinstance(element, LTTextBox):
                    continue
                text = join_lines([line.get_text() for line in element if isinstance(line, LTTextLine)])
                if text:
                    found.append((element.y0, element.y1, text))
            # Only the outermost short text at the top or the bottom can be a running header or
            # footer: body text that reaches into the band (a page without a footer) stays.
            top = max((y1 for _, y1, _ in found), default=0.0)
            bottom = min((y0 for y0, _, _ in found), default=0.0)
            for y0, y1, text in found:
                in_margin = len(text) <= _FURNITURE_MAX and (
                    (y0 >= page.height - band and y1 >= top - _EDGE_SLACK) or (y1 <= band and y0 <= bottom + _EDGE_SLACK))
                boxes.append(_Box(pages, text, in_margin))
            found.clear()
        info = _pdf_info(data)
    except PDFEncryptionError as exc:
        raise SkipFile("PDF 已加密，无法提取文字") from exc
    except Exception as exc:  # pdfminer raises many kinds of errors on damaged files
        raise SkipFile("PDF 文件已损坏或无法解析") from exc
    if pages == 0:
        raise SkipFile("PDF 文件已损坏或无法解析")
    repeats = Counter(_PAGE_NUMBER_PART.sub("#", b.text)
                      for b in {(b.page, b.text): b for b in boxes if b.in_margin}.values())
    body = [b.text for b in boxes if not _is_furniture(b, repeats, pages)]
    if not "".join(body).strip():
        raise SkipFile("扫描版 PDF：没有文字层，无法提取文字")
    title = info.get("title", "")
    if title and body and body[0].strip() == title:
        body = body[1:]
    meta: dict = {"format": "pdf"}
    if info.get("author"):
        meta["author"] = info["author"]
    return RawDoc(title=title, body="\n\n".join(body), meta=meta)


def _pdf_info(data: bytes) -> dict[str, str]:
    """Title and author from the document information dictionary, when they are real values."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    found: dict[str, str] = {}
    for info in document.info:
        for key in ("Title", "Author"):
            value = resolve1(info.get(key))
            if isinstance(value, bytes):
                value = decode_text(value)
            value = str(value or "").strip()
            if value and key.lower() not in found and _real_value(key, value):
                found[key.lower()] = re.sub(r"\s+", " ", value)
    return found


def _real_value(key: str, value: str) -> bool:
    """Reject placeholders printers write: "Untitled", "Microsoft Word - a.docx", a file name."""
    lowered = value.lower()
    if key == "Author":
        return lowered not in _TOOL_AUTHORS
    return not (lowered in {"untitled", "无标题"} or lowered.startswith("microsoft word -")
                or re.search(r"\.(docx?|pdf|html?)$", lowered))


def read_docx(data: bytes) -> RawDoc:
    """Paragraphs and headings of a Word document in order, title and author from its properties."""
    docx = _need("docx", "python-docx")
    try:
        document = docx.Document(io.BytesIO(data))
        props = document.core_properties
        lines: list[tuple[str, str]] = []
        for paragraph in document.paragraphs:
            text = re.sub(r"[ \t\u3000\xa0]+", " ", paragraph.text).strip()
            if text:
                lines.append(((paragraph.style.name if paragraph.style is not None else "") or "", text))
    except Exception as exc:  # a zip that is not a document, a damaged part
        raise SkipFile("Word 文件已损坏或无法解析") from exc
    if not lines:
        raise SkipFile("Word 文件中没有文字")
    title = (props.title or "").strip()
    if not title:
        # The first paragraph in the Title style, else the first top-level heading.
        for wanted in ("title", "heading 1"):
            found = next((i for i, (style, _) in enumerate(lines) if style.lower() == wanted), None)
            if found is not None:
                title = lines.pop(found)[1]
                break
    elif lines[0][1] == title:
        lines.pop(0)
    meta: dict = {"format": "docx"}
    author = (props.author or "").strip()
    if author and author.lower() not in _TOOL_AUTHORS:
        meta["author"] = author
    # Headings get a paragraph of their own, like the headings of the other formats.
    body = "\n".join(f"\n{text}\n" if style.lower().startswith("heading") else text for style, text in lines)
    return RawDoc(title=title, body=body, meta=meta)


def read_document(suffix: str, data: bytes) -> RawDoc:
    """Dispatch a binary document format by its file suffix."""
    if suffix == ".pdf":
        return read_pdf(data)
    if suffix == ".docx":
        return read_docx(data)
    raise SkipFile("不支持的文件类型")
