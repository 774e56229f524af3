"""Remove boilerplate and junk that is not the article: footers, tip jars, glued-on advertisements."""

from __future__ import annotations

import re

# Lines that are site furniture wherever they appear (whole-line matches, after trimming).
_BOILERPLATE_LINE = re.compile(
    r"""^(?:
        本文(?:由.{0,40})?原创发布于.*
      | 本文由\s*@?.{0,40}发布.*
      | .{0,20}未经(?:作者)?许可[，,]?\s*禁止转载.*
      | 题图(?:来自|来源|由).*
      | 配图来自.*
      | 给作者打赏.*
      | (?:赞赏|打赏|点赞|分享|收藏|举报|更多|评论|相关阅读|推荐阅读|THE\s*END|-+\s*END\s*-+)
      | \#\S{1,10}\#
      | 最新评论.*
      | 暂无评论.*
      | 评论仅代表用户观点.*
      | 扫码关注.* | 长按识别二维码.* | 关注公众号.*
    )$""",
    re.X | re.I,
)
# Once one of these appears, everything after it is page furniture (comments, related posts).
_END_OF_ARTICLE = re.compile(r"^(?:THE\s*END|-+\s*END\s*-+|最新评论.*|相关阅读|推荐阅读|给作者打赏.*)$", re.I)
_PHONE = re.compile(r"(?:\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4})|(?:1[3-9]\d{9})|(?:0\d{2,3}-\d{7,8})")
_SENTENCE_PUNCT = re.compile(r"[。！？!?；;]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_AUTHOR_PATTERNS = (
    re.compile(r"作者\s*[:：]\s*@?([^\s，,；;。、|：:()（）]{2,12})"),
    re.compile(r"本文由\s*@([^\s，,；;。、]{2,16})\s*原创"),
    re.compile(r"(?m)^\s*([\u4e00-\u9fff]{2,4})[，,](?=.{0,60}(?:专栏作家|撰稿人|作者|评论员))"),
    re.compile(r"(?m)^\s*(?:文|撰文|作者)\s*[/|｜]\s*([^\s，,；;。]{2,12})"),
)
_SITE_PATTERNS = (
    re.compile(r"(?:原创)?发布于\s*([^\s，,。；;]{2,16}?)(?:[，,。；;]|$)", re.M),
    re.compile(r"本文来自\s*([^\s，,。；;]{2,16}?)(?:[，,。；;]|$)", re.M),
)


def is_prose(line: str) -> bool:
    """A line of running text: enough CJK characters and a sentence end, or simply long."""
    cjk = len(_CJK.findall(line))
    return (cjk >= 12 and bool(_SENTENCE_PUNCT.search(line))) or cjk >= 40


def is_junk_block(lines: list[str]) -> bool:
    """Advertising or listing debris: phone numbers, or a run of short lines with no sentence."""
    if not lines:
        return False
    text = "\n".join(lines)
    if _PHONE.search(text) and not any(is_prose(ln) for ln in lines if not _PHONE.search(ln)):
        return True
    short = sum(1 for ln in lines if len(ln) <= 30 and not _SENTENCE_PUNCT.search(ln))
    return len(lines) >= 4 and short / len(lines) >= 0.75


def clean_text(text: str) -> str:
    """Normalize whitespace, drop boilerplate lines, cut the page tail and trailing junk."""
    lines = [re.sub(r"[ \t\u3000\xa0]+", " ", ln).strip() for ln in text.replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for ln in lines:
        if _END_OF_ARTICLE.match(ln) and _seen_prose(kept):
            break
        if _BOILERPLATE_LINE.match(ln):
            continue
        kept.append(ln)
    paragraphs = _paragraphs(kept)
    paragraphs = _drop_trailing_junk(paragraphs)
    paragraphs = [p for p in paragraphs if not (_PHONE.search("\n".join(p)) and is_junk_block(p))]
    out = "\n".join(ln for p in paragraphs for ln in p if ln)
    return out.strip()


def _seen_prose(lines: list[str]) -> bool:
    return sum(1 for ln in lines if is_prose(ln)) >= 3


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Group lines into blocks separated by blank lines."""
    blocks: list[list[str]] = [[]]
    for ln in lines:
        if ln:
            blocks[-1].append(ln)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _drop_trailing_junk(blocks: list[list[str]]) -> list[list[str]]:
    """Cut everything after the last prose line when that tail looks like an advertisement.

    Articles end in prose (a conclusion, an author bio); a tail of short lines, brand lists and
    phone numbers after it belongs to something else glued onto the page.
    """
    flat = [(bi, li) for bi, b in enumerate(blocks) for li, _ in enumerate(b)]
    last_prose = max((k for k, (bi, li) in enumerate(flat) if is_prose(blocks[bi][li])), default=-1)
    tail = [blocks[bi][li] for bi, li in flat[last_prose + 1 :]]
    if not tail or not (_PHONE.search("\n".join(tail)) or is_junk_block(tail)):
        return blocks
    bi, li = flat[last_prose]
    return blocks[:bi] + [blocks[bi][: li + 1]]


def find_author(text: str) -> str | None:
    """The person who signs the article ("作者：X", "本文由 @X 原创", "X，…专栏作家")."""
    for pattern in _AUTHOR_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1).strip("@ ")
    return None


def find_site(text: str) -> str | None:
    """The publishing site named in the text ("发布于人人都是产品经理", "本文来自搜狐网")."""
    for pattern in _SITE_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None
