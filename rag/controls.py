"""Characters that change a terminal or the reading order (ANSI escapes, bidi overrides), and their removal."""

from __future__ import annotations

import re
import unicodedata

# ANSI/VT escape sequences: CSI (colours, cursor moves), OSC (window titles, hyperlinks), and
# two-character escapes. Removed whole, so no "[31m" debris is left behind.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|\x9b[0-?]*[ -/]*[@-~]")
# Bidirectional embeddings, overrides and isolates (U+202E shows "gpj.exe" as "exe.jpg") and the
# direction marks: none belongs in Chinese prose.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI}]")


def strip_controls(text: str) -> str:
    """Remove ANSI escape sequences, bidi controls and other control characters (newline and tab stay)."""
    text = _ANSI.sub("", text)
    return "".join(ch for ch in text if ch in "\n\t" or not (ch in BIDI or unicodedata.category(ch) == "Cc"))


def escape_bidi(text: str) -> str:
    r"""Bidi controls written as ``\u202e`` escapes: for JSON output, which keeps other text as is."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
