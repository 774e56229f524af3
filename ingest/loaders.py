"""Read article files in the corpus formats: front matter + HTML, Markdown, plain text, PDF and DOCX."""

from __future__ import annotations

import codecs
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import frontmatter
import yaml
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

from ingest.chunk import is_heading
from ingest.clean import clean_text, find_author, find_site
from ingest.sanitize import plain_text, safe_url
from rag.controls import strip_controls
from rag.text import to_simplified
from rag.types import Article, ArticleMeta

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}
# Binary document formats, read by ingest.formats.
DOCUMENT_SUFFIXES = {".pdf", ".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCUMENT_SUFFIXES
_BLOCK_TAGS = "p,div,blockquote,h1,h2,h3,h4,h5,h6,li,tr,section,article,header,footer,pre,table,ul,ol,figure"
_DROP_TAGS = "script,style,svg,button,img,noscript,iframe,form,input,select,textarea,template,figure > figcaption"
_MD_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_DATE_IN_TEXT = re.compile(r"(20\d{2}|19\d{2})[年\-/.](\d{1,2})[月\-/.](\d{1,2})日?")
# A saved web page or an HTML fragment, recognized by its first tag (doctype, XML prolog, comment).
_HTML_START = re.compile(
    r"^\s*(?:<!doctype\s+html|<\?xml|<!--|<(?:html|head|body|div|p|article|section|main|meta|title)\b)", re.I
)
# Page chrome around the article in a whole saved page.
_PAGE_CHROME = "nav,header,footer,aside"
# A title line is short and is not a sentence: no full stop or clause break, no "？" followed by more
# text, no trailing comma (a headline may end in "？" or "！").
_TITLE_MAX = 40
_NOT_A_TITLE = re.compile(r"[。；;…]|[！？!?](?=.)|[，,、：:]$")
UNSUPPORTED = "不支持的文件类型"


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the reason shown in the summary."""


@dataclass
class RawDoc:
    """An article as read from disk, before cleaning."""

    title: str
    body: str
    meta: dict = field(default_factory=dict)


# Byte-order marks and their encodings (UTF-32 before UTF-16: FF FE 00 00 starts with FF FE).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# The legacy encodings of Chinese text: simplified (GB18030 ⊃ GBK ⊃ GB2312) and traditional (cp950,
# Windows' Big5 with its extensions such as €; Big5-HKSCS, Hong Kong's characters such as 嘅 and 邨).
_LEGACY = ("gb18030", "cp950", "big5hkscs")
_SHOWN = {"utf-32": "UTF-32", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}
_CJK_CHAR = re.compile("[\u4e00-\u9fff]")


def decode(data: bytes) -> str:
    """Decode bytes: by their byte-order mark (UTF-8, UTF-16 as Windows Notepad saves "Unicode",
    UTF-32), as UTF-8, as GB18030 or Big5 (cp950, Big5-HKSCS; whichever reads as Chinese), then a
    detected encoding; SkipFile if none works."""
    if not data.strip():
        raise SkipFile("空文件")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                raise SkipFile(f"文件开头标明 {_SHOWN[enc]} 编码，但内容无法按此解码") from None
            if not text.strip():
                raise SkipFile("空文件")
            return text
    if b"\x00" in data[:8192]:
        raise SkipFile("二进制文件（含 NUL 字节）")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # GB18030 decodes almost any bytes (Big5 text comes out as rare and private-use characters):
    # each legacy encoding that decodes is judged by how Chinese its text reads.
    decoded = []
    for enc in _LEGACY:
        try:
            decoded.append(data.decode(enc))
        except UnicodeDecodeError:
            continue
    if decoded:
        return max(decoded, key=_reads_as_chinese)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SkipFile("无法识别的文本编码（已尝试 UTF-8、UTF-16、GB18030、Big5 与自动检测）")
    return str(best)


# Enough of a file to judge its decoding by (a large file was converted and scanned whole, three times).
_SAMPLE_CHARS = 20_000


def _reads_as_chinese(text: str) -> float:
    """The share of a text's CJK characters that are common ones (in GB2312, once traditional
    characters are made simplified), over its first ``_SAMPLE_CHARS``; text decoded with the wrong
    table is mostly rare characters."""
    chars = _CJK_CHAR.findall(to_simplified(text[:_SAMPLE_CHARS]))
    if not chars:
        return 0.0
    common = sum(1 for c in chars if _in_gb2312(c))
    return common / len(chars)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def html_to_text(html: str) -> str:
    """HTML to plain text with one line per block element (paragraph breaks kept)."""
    tree = LexborHTMLParser(f"<body>{html}</body>")
    for node in tree.css(_DROP_TAGS):
        node.decompose()
    for node in tree.css("br"):
        node.replace_with("\n")
    for node in tree.css(_BLOCK_TAGS):
        node.insert_before("\n")
        node.insert_after("\n")
    body = tree.body
    text = body.text(separator="") if body is not None else ""
    return text


_md = MarkdownIt("commonmark", {"html": True, "breaks": True})


def markdown_to_text(md: str) -> str:
    """Markdown to plain text through its HTML rendering."""
    return html_to_text(_md.render(md))


def parse_date(value: object) -> str | None:
    """Normalize a front-matter or text date to ISO ``YYYY-MM-DD``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()
    try:
        return email.utils.parsedate_to_datetime(s).date().isoformat()
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    m = _DATE_IN_TEXT.search(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            return date(y, mo, d).isoformat()
        except ValueError:
            return None
    return None


def read_raw(text: str) -> RawDoc:
    """Detect the format by content and split title, body and metadata."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("---"):
        try:
            post = frontmatter.loads(stripped)
        except yaml.YAMLError as exc:
            raise SkipFile(f"front matter 格式错误：{str(exc).splitlines()[0]}") from exc
        meta = dict(post.metadata)
        if not isinstance(post.metadata, dict) or not meta and stripped.count("---") >= 2 and not post.content:
            raise SkipFile("front matter 格式错误：不是键值对")
        body = post.content
        looks_html = bool(re.search(r"<(p|div|br|h\d|blockquote|span|section)\b", body, re.I))
        body_text = html_to_text(body) if looks_html else markdown_to_text(body)
        title = str(meta.get("title") or "").strip()
        if not title:
            title, body_text = _first_line_title(body_text)
        return RawDoc(title=title, body=body_text, meta=meta)
    lines = stripped.splitlines()
    head = [ln for ln in lines[:10] if ln.strip()]
    heading = _MD_TITLE.match(head[0].strip()) if head else None
    if heading is not None:
        title = heading.group(1)
        line_end = stripped.find("\n", stripped.find(head[0]))
        rest = stripped[line_end + 1 :] if line_end >= 0 else ""
        return RawDoc(title=title, body=markdown_to_text(rest), meta={"format": "markdown"})
    if _HTML_START.match(stripped):
        return _read_html_page(stripped)
    title, body = _first_line_title(stripped)
    meta = {"format": "text"}
    # Plain text convention: after a title line, the next line is the author when it is a short name.
    first = body.lstrip("\n").split("\n", 1)
    if title and first and _looks_like_byline(first[0].strip()):
        meta["byline"] = first[0].strip()
        body = first[1] if len(first) > 1 else ""
    return RawDoc(title=title, body=body, meta=meta)


def _looks_like_byline(line: str) -> bool:
    """A short name on its own line: not a heading (一、背景, 引言), a date or anything with digits."""
    return (2 <= len(line) <= 12 and not re.search(r"[。！？，,.!?；;：:]", line)
            and not re.search(r"\d", line) and not is_heading(line) and not _DATE_IN_TEXT.search(line))


def _first_line_title(text: str) -> tuple[str, str]:
    """Take the first line as the title when it reads like one; otherwise no title, body whole.

    A first paragraph of running text is content: the caller then falls back to the file stem.
    """
    lines = text.strip().split("\n", 1)
    first = lines[0].strip()
    if len(first) > _TITLE_MAX or _NOT_A_TITLE.search(first):
        return "", text.strip()
    return first, (lines[1] if len(lines) > 1 else "")


def _read_html_page(html: str) -> RawDoc:
    """A whole web page: the article without page chrome, metadata from ``<head>`` when present."""
    tree = LexborHTMLParser(html)
    meta: dict = {"format": "html"}
    for key, selector, attr in (
        ("author", 'meta[name="author"]', "content"),
        ("date", 'meta[property="article:published_time"]', "content"),
        ("url", 'link[rel="canonical"]', "href"),
    ):
        node = tree.css_first(selector)
        value = (node.attributes.get(attr) or "").strip() if node is not None else ""
        if value:
            meta[key] = value
    for node in tree.css(_PAGE_CHROME):
        # An article's own <header> holds its title and byline; the page's holds the site menu.
        if not (node.tag == "header" and _inside(node, {"article", "main"})):
            node.decompose()
    h1 = tree.css_first("h1")
    head_title = tree.css_first("title")
    title = h1.text(strip=True) if h1 is not None else ""
    if h1 is not None:
        h1.decompose()
    if not title and head_title is not None:
        title = head_title.text(strip=True)
    body_node = tree.body
    body_text = html_to_text((body_node.html or "") if body_node is not None else "")
    if not title:
        title, body_text = _first_line_title(body_text)
    return RawDoc(title=title, body=body_text, meta=meta)


def _inside(node, tags: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def load_article(path: Path, root: Path) -> Article:
    """Read, decode, parse and clean one file; raises SkipFile with a reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"无法读取：{exc.strerror or exc}") from exc
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        from ingest.formats import read_document

        raw = read_document(path.suffix.lower(), data)
        raw.body, raw.title = strip_controls(raw.body), strip_controls(raw.title)
    else:
        # Terminal escapes and bidi controls go first, so that title and byline detection see clean lines.
        raw = read_raw(strip_controls(decode(data)))
    # Entities are decoded once: by the HTML parser for web pages and Markdown, here for plain text
    # (a PDF or Word file's text is literal).
    parsed = raw.meta.get("format") != "text"
    raw.body = plain_text(raw.body, decode_entities=not parsed)
    raw.title = plain_text(raw.title, decode_entities=raw.meta.get("format") != "html")
    # An article in traditional characters is kept in simplified ones, as questions are read
    # (rag.text.standard_form): a question in either script then matches it word for word.
    raw.body, raw.title = to_simplified(raw.body), to_simplified(raw.title)
    body = clean_text(raw.body)
    if len(body.strip()) < 20:
        raise SkipFile("没有可用的正文")
    source = source_name(path, root)
    fm_author = plain_text(str(raw.meta.get("author") or ""), decode_entities=True).strip() or None
    cats = raw.meta.get("categories") or []
    categories = tuple(str(c) for c in ([cats] if isinstance(cats, str) else cats) if c)
    # A declared author wins, except a front-matter "author" that is also a category or the
    # publishing site: that is the site, and the person is found in the byline or footer.
    site = find_site(raw.body)
    if fm_author and (fm_author in categories or fm_author == site):
        site = site or fm_author
        fm_author = None
    author = fm_author or raw.meta.get("byline") or find_author(raw.body)
    author = plain_text(str(author), decode_entities=False).strip() or None if author else None
    date_iso = parse_date(raw.meta.get("date")) or _date_from_text(raw.body)
    meta = ArticleMeta(
        article_id=article_id_for(source),
        source=source,
        title=re.sub(r"\s+", " ", raw.title).strip() or path.stem,
        author=to_simplified(author) if author else None,
        site=site,
        date=date_iso,
        url=safe_url(raw.meta.get("url") or raw.meta.get("link")),
        image=safe_url(raw.meta.get("headimg") or raw.meta.get("thumbnail") or raw.meta.get("image")),
        categories=tuple(c for c in (plain_text(c, decode_entities=True).strip() for c in categories) if c),
    )
    digest = hashlib.sha256(data).hexdigest()
    return Article(meta=meta, text=body, content_hash=digest)


def source_name(path: Path, root: Path) -> str:
    """A file's name as the library knows it: its path inside the corpus folder ``root``."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def _date_from_text(text: str) -> str | None:
    m = _DATE_IN_TEXT.search(text[:400])
    return parse_date(m.group()) if m else None



def article_id_for(source: str) -> str:
    """Stable id from the path relative to the corpus root: its stem, made URL-safe."""
    stem = source.rsplit(".", 1)[0] if "." in Path(source).name else source
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")
    if not slug or slug != stem.replace("/", "-"):
        slug = (slug[:40] + "-" if slug else "") + hashlib.sha1(source.encode()).hexdigest()[:10]
    return slug


def iter_files(paths: list[Path]) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """Expand paths into ``(file, root)`` pairs; hidden files are ignored.

    Missing paths and files whose suffix is not a supported format (``SUPPORTED_SUFFIXES``) are reported in
    the second list with their reason (``UNSUPPORTED`` for the latter), without being read.
    """
    files: list[tuple[Path, Path]] = []
    problems: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                    continue
                if f.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append((f, p))
                else:
                    problems.append((str(f), UNSUPPORTED))
        elif p.is_file():
            if p.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append((p, p.parent))
            else:
                problems.append((str(p), UNSUPPORTED))
        else:
            problems.append((str(p), "路径不存在或无法访问"))
    return files, problems
