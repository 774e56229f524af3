"""Documents made by the tests themselves: a Chinese PDF printed by Chromium, a DOCX written by python-docx."""

from __future__ import annotations

import html
import io

HEADER = "<div style='font-size:9px;width:100%;text-align:center'>{running} <span class='title'></span></div>"
FOOTER = ("<div style='font-size:9px;width:100%;text-align:center'>第 <span class='pageNumber'></span> 页 / "
          "共 <span class='totalPages'></span> 页</div>")


def print_pdf(browser, title: str, paragraphs: list[str], running: str = "内部资料", furniture: bool = True) -> bytes:
    """Chromium's print-to-PDF of a Chinese page, with a running header (``running`` and the title)
    and a page-number footer on every page (none with ``furniture=False``)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = browser.new_page()
    try:
        page.set_content(f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                         f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
        if not furniture:
            return page.pdf()
        return page.pdf(display_header_footer=True, header_template=HEADER.format(running=html.escape(running)),
                        footer_template=FOOTER, margin={"top": "60px", "bottom": "60px", "left": "50px", "right": "50px"})
    finally:
        page.close()


def print_blank_pdf(browser) -> bytes:
    """A PDF with a picture-like box and no text layer (what a scan looks like to a text extractor)."""
    page = browser.new_page()
    try:
        page.set_content("<div style='width:400px;height:300px;background:#789'></div>")
        return page.pdf()
    finally:
        page.close()


def make_docx(title: str, sections: dict[str, list[str]], author: str | None = None) -> bytes:
    """A Word document: the title as heading 1, each section a heading 2 with its paragraphs."""
    import docx

    document = docx.Document()
    if author:
        document.core_properties.author = author
    document.add_heading(title, level=1)
    for heading, paragraphs in sections.items():
        document.add_heading(heading, level=2)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def with_info(pdf: bytes, title: str, author: str) -> bytes:
    """``pdf`` with an incremental update replacing its document information by ``title`` and
    ``author`` (Word's or WPS's PDF export writes an author; Chromium writes none)."""
    import re

    root = re.search(rb"/Root (\d+ 0 R)", pdf).group(1).decode()
    size = int(re.search(rb"/Size (\d+)", pdf).group(1))
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    def text(value: str) -> str:
        return "<FEFF" + value.encode("utf-16-be").hex().upper() + ">"

    body = f"{size} 0 obj\n<< /Title {text(title)} /Author {text(author)} >>\nendobj\n".encode()
    offset = len(pdf) + 1
    xref = (f"xref\n{size} 1\n{offset:010d} 00000 n \ntrailer\n<< /Size {size + 1} /Root {root} /Info {size} 0 R "
            f"/Prev {prev} >>\nstartxref\n{offset + len(body)}\n%%EOF\n")
    return pdf + b"\n" + body + xref.encode()


# A short article added to a corpus by the tests that re-index (a reload under load, a resumed job).
COLD_CHAIN = """---
title: 产业互联网里的冷链物流
author: 测试作者
date: 2024-03-01
---

冷链物流是产业互联网的重要场景。冷库、冷藏车和温度传感器接入平台之后，生鲜企业可以实时看到每一批货物的温度。
"""
