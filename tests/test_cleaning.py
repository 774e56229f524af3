"""Cleaning, loading and chunking of single articles: what is junk, what is content, what is metadata."""

from __future__ import annotations

from pathlib import Path

from conftest import CORPUS

from ingest.chunk import ChunkParams, chunk_article
from ingest.clean import clean_text, find_author
from ingest.loaders import UNSUPPORTED, iter_files, load_article, read_raw

PROSE = "产业互联网正在变得深入，正在成为一种潮流和趋势，这并不仅仅只是局限在传统产业主动地进行科技化的转型和升级。"
PROSE2 = "元宇宙的出现，特别是元宇宙在资本市场上受到的追捧为已经干旱无比的产业互联网带来了一场久违的春雨。"


def _load(tmp_path: Path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return load_article(path, tmp_path)


def _uncovered(article, chunks) -> str:
    """Non-whitespace characters of the article text that are in no chunk."""
    covered = [False] * len(article.text)
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        covered[c.start : c.end] = [True] * (c.end - c.start)
    return "".join(ch for ch, k in zip(article.text, covered, strict=True) if not k and not ch.isspace())


# A. An article may end in a list; only an advertising tail is cut.


def test_article_ending_in_short_list_is_kept(tmp_path):
    html = (f"---\ntitle: 列表结尾\n---\n<p>{PROSE}</p><p>{PROSE2}</p><p>总结一下，企业应当做到以下几点：</p>"
            "<ul><li>降低运营成本</li><li>提升协作效率</li><li>打通数据孤岛</li><li>重塑客户体验</li></ul>")
    article = _load(tmp_path, "endlist.html", html)
    assert article.text == "\n".join([PROSE, PROSE2, "总结一下，企业应当做到以下几点：", "降低运营成本", "提升协作效率",
                                      "打通数据孤岛", "重塑客户体验"])


def test_advertising_tail_of_sample_is_removed():
    article = load_article(CORPUS / "003_70190b60f0223078.txt", CORPUS)
    assert article.text.endswith("它所带给我们的想象空间要比消费互联网时代大得多。")
    assert "华府冷暖空调" not in article.text and "240-421-7363" not in article.text


def test_tail_with_ad_words_but_no_phone_is_removed():
    text = "\n".join([PROSE, PROSE2, "", "华府冷暖空调", "代理：Carrier Payne", "价格合理 品质保证", "安装 维修"])
    assert clean_text(text) == f"{PROSE}\n{PROSE2}"


# B. A sentence that mentions a number or a hotline is prose; only short phone lines go.


def test_prose_with_large_number_or_hotline_is_kept():
    number = "据统计，该平台去年交易额达到1500000000元，同比增长35%，成为行业内增长最快的企业之一，这一数字令人瞩目。"
    hotline = "相关企业如有疑问，可以拨打工信部的咨询热线010-68208025，工作人员会在工作日内给予详细答复和政策解读。"
    text = "\n\n".join([PROSE, number, hotline, PROSE2])
    assert clean_text(text) == "\n".join([PROSE, number, hotline, PROSE2])


def test_short_phone_line_inside_article_is_dropped():
    text = "\n\n".join([PROSE, f"{PROSE2}\n电话：240-421-7363", PROSE])
    assert clean_text(text) == "\n".join([PROSE, PROSE2, PROSE])


# C. Footers need attribution wording; author bios stay.


def test_sentence_starting_with_benwenyou_is_kept():
    sentence = "本文由三个部分组成：第一部分分析工信部最新发布的产业互联网政策，第二部分讨论企业的应对。"
    assert clean_text(f"{PROSE}\n{sentence}\n{PROSE2}") == f"{PROSE}\n{sentence}\n{PROSE2}"


def test_site_footer_variants_are_removed_and_author_bios_kept():
    bio1 = "作者：元宇宙少女；8年产业互联网经验，1000小时微信读书，专研元宇宙web3领域"
    bio2 = "孟永辉，微信公众号：menglaoshi007，人人都是产品经理专栏作家。资深撰稿人，特约评论员，行业研究专家。"
    footers = [
        "本文由人人都是产品经理作者【产品小王】，微信公众号：【产品小王说】，原创/授权 发布于人人都是产品经理，未经许可，禁止转载。",
        "本文由 @元宇宙少女 原创发布于人人都是产品经理，未经许可，禁止转载。",
        "题图来自 Unsplash，基于 CC0 协议。",
        "图片来源：网络",
        "责任编辑：李华",
    ]
    text = "\n".join([PROSE, PROSE2, PROSE, bio1, bio2, *footers, "—— END ——", "相关推荐文章的标题"])
    assert clean_text(text) == "\n".join([PROSE, PROSE2, PROSE, bio1, bio2])
    assert find_author(footers[0]) == "产品小王"


# D. Numbered list items are body text; no text of the article is left out of every chunk.


def test_numbered_list_lines_are_in_chunks(tmp_path):
    items = ["1. 降低运营成本", "2. 提升协作效率", "3. 打通数据孤岛", "4. 重塑客户体验"]
    text = "\n\n".join(["列表中间", PROSE, "企业数字化转型有四个好处：", "\n".join(items), PROSE2])
    article = _load(tmp_path, "midlist.txt", text)
    chunks = chunk_article(article)
    assert all(any(item in c.text for c in chunks) for item in items)
    assert {c.heading for c in chunks} == {None}


def test_every_character_is_in_a_chunk(tmp_path):
    text = "\n".join(["标题", "", PROSE, "一、背景", "1. 数据互通", PROSE2, "二、没有正文的一节", "三、现状", PROSE,
                      "1. 第一点", "2. 第二点", "结语"])
    article = _load(tmp_path, "a.txt", text)
    chunks = chunk_article(article, ChunkParams(50, 120, 1))
    assert _uncovered(article, chunks) == ""
    assert [c.heading for c in chunks if c.heading] == ["1. 数据互通", "三、现状", "结语"]
    assert "二、没有正文的一节\n三、现状" in "".join(c.text for c in chunks)
    for path in sorted(CORPUS.iterdir()):
        article = load_article(path, CORPUS)
        assert _uncovered(article, chunk_article(article)) == ""


# E. A saved web page is HTML, whatever precedes <html>.


def test_saved_web_page_with_doctype(tmp_path):
    page = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>网页标题 - 某网站</title>"
            "<meta name='author' content='王五'><link rel='canonical' href='https://example.com/post/1'>"
            "<meta property='article:published_time' content='2022-07-08T10:00:00+08:00'><script>var x=1;</script>"
            "</head><body><nav><a href='/'>首页</a><a>关于我们</a></nav><header>某网站</header>"
            f"<article><h1>文章标题</h1><p>{PROSE}</p><aside>热门文章推荐</aside><p>{PROSE2}</p></article>"
            "<footer>版权所有 © 2023 某某公司 京ICP备12345678号</footer></body></html>")
    article = _load(tmp_path, "page.html", page)
    meta = article.meta
    assert (meta.title, meta.author, meta.date, meta.url) == ("文章标题", "王五", "2022-07-08", "https://example.com/post/1")
    assert article.text == f"{PROSE}\n{PROSE2}"
    for start in ("<?xml version='1.0' encoding='utf-8'?>\n", "<!-- saved from url -->\n"):
        assert _load(tmp_path, "p2.html", start + page.split("\n", 1)[1]).meta.title == "文章标题"


# F, G. Plain text: a first paragraph is not a title; a heading or a date is not a byline.


def test_long_first_paragraph_is_not_title(tmp_path):
    first = "产业互联网正在变得深入，正在成为一种潮流和趋势。这并不仅仅只是局限在传统产业主动地进行科技化的转型和升级。"
    article = _load(tmp_path, "notitle.txt", f"{first}\n\n{PROSE2}\n")
    assert (article.meta.title, article.text) == ("notitle", f"{first}\n{PROSE2}")
    assert read_raw("短的一句话。\n\n" + PROSE).title == ""
    assert read_raw("产业互联网需要被正名吗？\n\n" + PROSE).title == "产业互联网需要被正名吗？"


def test_plain_text_byline_rejects_headings_and_dates(tmp_path):
    for line in ("一、背景", "2023年5月1日", "引言", "2023-05-01"):
        article = _load(tmp_path, "h.txt", f"我的标题\n\n{line}\n\n{PROSE}\n")
        assert (article.meta.title, article.meta.author, article.text) == ("我的标题", None, f"{line}\n{PROSE}")
    article = _load(tmp_path, "b.txt", f"我的标题\n张三\n{PROSE}\n")
    assert (article.meta.author, article.text) == ("张三", PROSE)


# H. A declared author wins over sentences that mention "作者".


def test_front_matter_author_wins_over_body_mentions(tmp_path):
    body = [PROSE, "事实上，作者在过去几年里一直关注这个领域，也写过很多相关的文章。", "在他看来，作者和读者之间需要更多的交流。",
            "正如《产业互联网白皮书》（作者：李明）所说，这是一个长期的过程。", PROSE2]
    article = _load(tmp_path, "fm.md", "---\ntitle: 作者测试\nauthor: 张三\n---\n\n" + "\n\n".join(body))
    assert article.meta.author == "张三"
    article = _load(tmp_path, "nofm.md", "---\ntitle: 作者测试\n---\n\n" + "\n\n".join(body))
    assert article.meta.author is None


def test_site_name_as_front_matter_author_defers_to_byline(tmp_path):
    fm = "---\ntitle: 站点作者\nauthor: 人人都是产品经理\ncategories:\n - 人人都是产品经理\n---\n\n"
    body = [PROSE, PROSE2, "孟永辉，微信公众号：menglaoshi007，人人都是产品经理专栏作家。资深撰稿人，特约评论员。"]
    meta = _load(tmp_path, "site.md", fm + "\n\n".join(body)).meta
    assert (meta.author, meta.site) == ("孟永辉", "人人都是产品经理")


# I. A single category written as a string.


def test_string_categories(tmp_path):
    article = _load(tmp_path, "c.md", f"---\ntitle: 分类测试\ncategories: 新媒体\n---\n\n{PROSE}\n")
    assert article.meta.categories == ("新媒体",)


# J. Only text formats are read.


def test_unsupported_file_types_are_reported(tmp_path):
    for name in ("a.txt", "b.md", "c.HTML", "README", "config.json", "data.csv", "logo.svg"):
        (tmp_path / name).write_text(PROSE, encoding="utf-8")
    files, problems = iter_files([tmp_path, tmp_path / "x.pdf"])
    assert [f.name for f, _ in files] == ["README", "a.txt", "b.md", "c.HTML"]
    assert problems == [(str(tmp_path / n), UNSUPPORTED) for n in ("config.json", "data.csv", "logo.svg")] + [
        (str(tmp_path / "x.pdf"), "路径不存在或无法访问")]
    assert UNSUPPORTED == "不支持的文件类型"


# M. A text hard-wrapped at a fixed width is rejoined; its headings and short lines are not.


def test_hard_wrapped_text_is_rejoined(tmp_path):
    para1 = PROSE + "同样还包含了以互联网玩家为代表的科技玩家对于传统行业的深度赋能。正是因为如此，我是不赞同的。"
    para2 = PROSE2 + "有了这样一场春雨的滋润，产业互联网开始迎来了生机与活力，资本市场的看法开始改变。"

    def wrap(p: str) -> str:
        return "\n".join(p[i : i + 30] for i in range(0, len(p), 30))

    text = "\n\n".join(["# 硬换行测试", "一、背景", wrap(para1), "降低运营成本\n提升协作效率", wrap(para2)])
    article = _load(tmp_path, "wrapped.md", text)
    assert article.text == "\n".join(["一、背景", para1, "降低运营成本", "提升协作效率", para2])
    sentences = [s for c in chunk_article(article) for s in c.text.split("\n")]
    assert para1 in sentences and para2 in sentences


# N. Footers of any site: follow-us / QR lines, link lists, contact lines, copyright and repost terms.

LAST = "最后一句：产业互联网是一场长跑，需要耐心，更需要持续的投入和坚持不懈的努力。"
FOOTERS = {
    "links": ["推荐阅读：", "工业互联网平台的三种打法", "《制造业数字化转型白皮书》解读", "从消费到产业：一场迁徙"],
    "follow": ["扫描下方二维码，关注“产业观察家”，获取更多深度内容", "长按识别二维码 加入读者群"],
    "contact": ["商务合作请联系：王经理 13912345678", "投稿邮箱：tougao@example.com"],
    "rights": ["本文为作者独立观点，不代表本站立场。文章版权归原作者所有，如需转载请注明出处。", "© 2023 产业观察家 保留所有权利"],
}


def test_footer_of_each_kind_never_reaches_a_chunk(tmp_path):
    for order in (["links", "follow", "contact", "rights"], ["rights", "contact", "follow", "links"]):
        footer = [line for kind in order for line in ["", *FOOTERS[kind]]]
        article = _load(tmp_path, "footer.txt", "\n".join(["页脚测试", "", PROSE, PROSE2, PROSE, LAST, *footer]))
        assert article.text == "\n".join([PROSE, PROSE2, PROSE, LAST])
        assert _uncovered(article, chunk_article(article)) == ""
    for kind, lines in FOOTERS.items():
        article = _load(tmp_path, f"{kind}.md", "\n\n".join(["# 单一页脚", PROSE, PROSE2, LAST, "\n".join(lines)]))
        assert article.text == "\n".join([PROSE, PROSE2, LAST]), kind


def test_footer_words_inside_the_article_and_a_final_list_are_kept():
    middle = "平台把版权保护和二维码溯源结合起来，商务合作的门槛也随之降低，这让中小企业第一次拥有了议价能力。"
    items = ["降低运营成本", "提升协作效率", "打通数据孤岛"]
    text = "\n".join([PROSE, middle, PROSE2, "企业应当做到以下几点：", *items, "", "版权声明：本文版权归作者所有。"])
    assert clean_text(text) == "\n".join([PROSE, middle, PROSE2, "企业应当做到以下几点：", *items])
    # The article's own last sentences may mention copyright, QR codes or official accounts.
    last = ["数字藏品的意义在于版权确权，用户扫码即可查验每一件藏品的来源。",
            "作者简介：王五，公众号“产业笔记”主理人，邮箱 wangwu@example.com。"]
    text = "\n".join([PROSE, PROSE2, *last, "", "本文版权归作者所有，转载请注明出处。"])
    assert clean_text(text) == "\n".join([PROSE, PROSE2, *last])
    # Without prose before it, nothing is taken for a footer.
    assert clean_text("转载请注明出处\n扫码关注我们的公众号") == "转载请注明出处"
