"""Unsafe values out of ingested articles: markup in text, non-http(s) links, terminal and bidi controls."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from rag.controls import strip_controls

# Elements whose content is code, never article text: dropped with what they hold.
_CODE_ELEMENT = re.compile(
    r"<\s*(script|style|iframe|object|embed|applet|noscript|template|svg|math)\b[^>]*>.*?<\s*/\s*\1\s*>",
    re.I | re.S,
)
# Tags of HTML elements (opening, closing or self-closing) and comments. Only element names are
# matched, so text such as "<<三体>>" stays as written.
_TAG_NAMES = (
    "a|abbr|applet|area|article|aside|audio|b|base|basefont|bdi|bdo|blink|blockquote|body|br|button|canvas|"
    "caption|center|cite|code|col|colgroup|dd|del|details|dfn|dialog|div|dl|dt|em|embed|fieldset|figcaption|"
    "figure|font|footer|form|frame|frameset|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|"
    "li|link|main|map|mark|marquee|math|meta|meter|nav|noscript|object|ol|optgroup|option|output|p|param|"
    "picture|pre|progress|q|s|samp|script|section|select|small|source|span|strike|strong|style|sub|summary|"
    "sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr"
)
# Attributes as HTML writes them (ASCII names, quoted or bare values), so "a<b 且 c>d" is no tag.
_ATTRS = r"""(?:\s+[A-Za-z_:@][\w:.@-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>`]+))?)*"""
_TAG = re.compile(rf"<\s*/?\s*(?:{_TAG_NAMES}){_ATTRS}\s*/?\s*>|<!--.*?(?:-->|$)", re.I | re.S)
_SPACES = re.compile(r"[ \t]{2,}")


def strip_markup(text: str) -> str:
    """Text without HTML tags: code elements go with their content, other tags leave their text."""
    if "<" not in text:
        return text
    text = _CODE_ELEMENT.sub(" ", text)
    return _SPACES.sub(" ", _TAG.sub(" ", text))


def plain_text(text: str, *, decode_entities: bool) -> str:
    """Text as it should be stored and shown: no markup, no control characters.

    ``decode_entities`` for text that no HTML parser has read (plain text files, front-matter
    values): ``&lt;b&gt;`` is decoded once to ``<b>`` and then removed as markup. Text that a
    parser produced has had its entities decoded already; decoding again would turn an article's
    literal "&lt;" into "<".
    """
    if decode_entities and "&" in text:
        text = html.unescape(text)
    return strip_controls(strip_markup(text))


def safe_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL, else None (``javascript:``, ``data:``, relative)."""
    if not value:
        return None
    url = strip_controls(str(value)).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return None
    return url
