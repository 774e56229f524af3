"""PDF and DOCX articles: reading order, no running headers or page numbers, metadata, clear skip reasons."""

from __future__ import annotations

import pytest
from samples import make_docx, print_blank_pdf, print_pdf, with_info

from ingest.chunk import chunk_article
from ingest.formats import join_lines, read_docx, read_pdf
from ingest.loaders import SkipFile, iter_files, load_article

pytest_plugins = ["tests.browser"]  # browser

TITLE = "青藤制造云的纺织实践"
# Paragraphs that differ only by numbers, over several pages: none may be taken for a running line.
PARAS = [f"第{i}段：青藤制造云平台把三千家纺织工厂的织机数据接入同一个调度系统，第{i}批订单的交付周期从二十天缩短到九天。"
         for i in range(1, 81)]


@pytest.mark.browser
def test_printed_pdf_keeps_paragraphs_and_drops_headers_and_page_numbers(browser, tmp_path):
    data = print_pdf(browser, TITLE, ["作者：林青", *PARAS], running="青藤研究院内部资料")
    raw = read_pdf(data)
    assert raw.title == TITLE  # from the document information (Chromium writes <title> there)
    # Every paragraph whole, in order, its wrapped lines joined without spaces; every page's
    # header ("青藤研究院内部资料 …") and footer ("第 1 页 / 共 5 页") gone.
    assert raw.body.split("\n\n") == ["作者：林青", *PARAS]
    (tmp_path / "report.pdf").write_bytes(data)
    article = load_article(tmp_path / "report.pdf", tmp_path)
    assert (article.meta.title, article.meta.author, article.meta.source) == (TITLE, "林青", "report.pdf")
    assert article.text == "\n".join(["作者：林青", *PARAS])
    assert "".join(c.text for c in chunk_article(article)).count("内部资料") == 0
    # Without a header or footer, the first and last paragraph of every page are text like the others.
    assert read_pdf(print_pdf(browser, TITLE, PARAS, furniture=False)).body.split("\n\n") == PARAS
    # An author in the document information wins over the byline.
    raw = read_pdf(with_info(data, TITLE, "周远"))
    assert (raw.title, raw.meta, raw.body.split("\n\n")[1:]) == (TITLE, {"format": "pdf", "author": "周远"}, PARAS)


@pytest.mark.browser
def test_pdf_without_text_layer_and_damaged_pdf_are_skipped_with_reasons(browser, tmp_path):
    with pytest.raises(SkipFile, match="^扫描版 PDF：没有文字层，无法提取文字$"):
        read_pdf(print_blank_pdf(browser))
    good = print_pdf(browser, TITLE, PARAS[:3])
    for damaged in (b"%PDF-1.7\nthis is not a pdf", good[: len(good) // 3], b"\x00" * 100):
        with pytest.raises(SkipFile, match="^PDF 文件已损坏或无法解析$"):
            read_pdf(damaged)


def test_docx_paragraphs_headings_title_and_author(tmp_path):
    sections = {"一、背景": ["白杨物流链把两百座冷库的温度数据接入同一个平台，生鲜损耗率从百分之八降到百分之三。"],
                "二、做法": ["每一台冷柜都装上了传感器。", "调度系统按温度和距离分配车辆。"]}
    data = make_docx("白杨物流链的冷链实践", sections, author="周远")
    raw = read_docx(data)
    assert (raw.title, raw.meta) == ("白杨物流链的冷链实践", {"format": "docx", "author": "周远"})
    (tmp_path / "冷链.docx").write_bytes(data)
    article = load_article(tmp_path / "冷链.docx", tmp_path)
    assert (article.meta.title, article.meta.author) == ("白杨物流链的冷链实践", "周远")
    assert article.text == "\n".join(["一、背景", *sections["一、背景"], "二、做法", *sections["二、做法"]])
    # python-docx writes its own name as the author when none is given: that is no author.
    assert read_docx(make_docx("标题", {"一": ["正文内容。"]})).meta == {"format": "docx"}
    with pytest.raises(SkipFile, match="^Word 文件已损坏或无法解析$"):
        read_docx(b"PK\x03\x04 not a zip")


def test_pdf_and_docx_are_listed_as_supported(tmp_path):
    for name in ("a.pdf", "b.docx", "c.doc", "d.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    files, problems = iter_files([tmp_path])
    assert [f.name for f, _ in files] == ["a.pdf", "b.docx"]
    assert [p for p, _ in problems] == [str(tmp_path / "c.doc"), str(tmp_path / "d.xlsx")]


def test_join_lines_keeps_cjk_together_and_words_apart():
    assert join_lines(["产业互联网的关键不在流", "量，而在留量。"]) == "产业互联网的关键不在流量，而在留量。"
    assert join_lines(["Industrial internet is", "about retention"]) == "Industrial internet is about retention"
    assert join_lines(["数据来自 IoT", "设备"]) == "数据来自 IoT设备"
