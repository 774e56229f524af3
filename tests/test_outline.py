"""Questions about an article's structure, answered from its headings (rag.answer.outline)."""

from __future__ import annotations

from rag.answer.outline import outline, outline_answer
from rag.engine import Engine
from rag.types import ArticleMeta, Chunk

METAVERSE = "当元宇宙遇上产业互联网"


def _chunks(*headings: str | None) -> list[Chunk]:
    """One chunk per heading (None: a chunk without one), as ingest writes them: the heading on a
    line of its own before the body."""
    return [Chunk(f"c{i}", "a", i, f"{h}\n正文第{i}段。" if h else f"正文第{i}段。", 0, 1, h) for i, h in enumerate(headings)]


def test_sections_nest_by_numbering_in_the_order_an_article_first_uses_it():
    sections = outline(_chunks(None, "一、起点", "一、起点", "1. 甲", "2. 乙", "（1）细节", "二、终局", "三、结语", "#专栏作家#"))
    assert [(s.heading, s.level) for s in sections] == [
        ("一、起点", 0), ("1. 甲", 1), ("2. 乙", 1), ("（1）细节", 2), ("二、终局", 0), ("三、结语", 0)]
    # A section's sentences run to the next heading, across its chunks.
    assert [text for _, text in sections[0].sentences] == ["正文第1段。", "正文第2段。"]
    # The section's first chunk is the one cited; a heading repeated by the next chunk is one section.
    assert sections[0].chunk.ordinal == 1
    # An article numbered 1. at its top level nests 一、 under it.
    assert [s.level for s in outline(_chunks("1. 甲", "一、子", "2. 乙"))] == [0, 1, 0]


def test_a_list_under_a_heading_quotes_each_item_with_its_first_sentence():
    chunks = [
        Chunk("c0", "a", 0, "导语。", 0, 3, None),
        Chunk("c1", "a", 1, "二、转型的三个抓手\n总的来说如下。", 3, 20, "二、转型的三个抓手"),
        Chunk("c2", "a", 2, "1. 数据\n数据是第一个抓手。后面还有。", 20, 40, "1. 数据"),
        Chunk("c3", "a", 3, "2. 人才\n人才要培养；也要引进。", 40, 60, "2. 人才"),
        Chunk("c4", "a", 4, "3. 资金\n" + "长" * 100 + "。", 60, 200, "3. 资金"),
        Chunk("c5", "a", 5, "三、结语\n完。", 200, 210, "三、结语"),
    ]
    meta = ArticleMeta("a", "a.txt", "转型指南")
    answer = outline_answer("企业转型有哪几个抓手？", [], ["a"], lambda _: chunks, lambda _: meta)
    assert answer is not None
    assert answer.text == "转型的三个抓手：\n1. 数据：数据是第一个抓手。[1]\n2. 人才：人才要培养；也要引进。[2]\n3. 资金[3]"
    assert [c.chunk_id for c in answer.citations] == ["c2", "c3", "c4"]
    # Not a list the headings name, nor an outline asked of a named article: the reader answers.
    assert outline_answer("企业转型有哪些难点？", [], ["a"], lambda _: chunks, lambda _: meta) is None
    assert outline_answer("数据为什么是抓手？", ["a"], ["a"], lambda _: chunks, lambda _: meta) is None


def test_the_sections_of_a_named_article(engine: Engine):
    answer = engine.ask(f"《{METAVERSE}》从哪几个方面讲元宇宙对产业互联网的作用？", mode="retrieval")
    assert answer.answer == (
        f"《{METAVERSE}》分为四个部分：一、元宇宙让产业互联网得到了复现[1]；二、元宇宙让产业互联网不再是假想[2]；"
        "三、元宇宙让产业互联网有了生机[3]；四、元宇宙让产业互联网得到了释放[4]。")
    assert [c.title for c in answer.citations] == [METAVERSE] * 4
    assert [c.passage.split("\n")[0] for c in answer.citations] == [
        "一、元宇宙让产业互联网得到了复现", "二、元宇宙让产业互联网不再是假想", "三、元宇宙让产业互联网有了生机",
        "四、元宇宙让产业互联网得到了释放"]
    assert (answer.grounded, answer.refused) == (True, False)
    # The closing words come after the parts, with their first sentence.
    parts = engine.ask("《产业互联网需要被正名》一共有几节？", mode="retrieval")
    assert parts.answer.startswith("《产业互联网需要被正名》分为三个部分：一、产业互联网的主战场在于产业[1]；")
    assert "；最后是结语：产业互联网正在以不可阻挡的趋势向我们走来" in parts.answer and parts.answer.endswith("[4]。")
    assert parts.citations[3].passage.startswith("四、结语")


def test_unnumbered_heading_lines_and_what_each_part_says(engine: Engine):
    # 《画卷》's headings are short lines of their own (「流量，绝非产业互联网的关键」), not numbered.
    answer = engine.ask("讲产业互联网画卷徐徐展开的那篇文章，每部分讲了什么？", mode="retrieval")
    lines = answer.answer.split("\n")
    assert lines[0] == "《产业互联网的画卷，正徐徐展开》分为三个部分："
    assert [line.split("：")[0] for line in lines[1:]] == [
        "流量，绝非产业互联网的关键", "平台，绝非是产业互联网的形态", "互联网，绝非是产业互联网的本质"]
    # Each part's gist: the sentence that states its heading and more (here the section's conclusion).
    assert lines[1] == "流量，绝非产业互联网的关键：透过以上的分析，我们可以看出，流量，绝不是产业互联网的关键，留量，才是产业互联网的关键。[1]"
    assert all(line.endswith(f"[{n}]") for n, line in enumerate(lines[1:], 1))
    assert "留量，才是产业互联网的关键" in answer.citations[0].passage


def test_the_items_under_the_heading_a_list_question_names(engine: Engine):
    answer = engine.ask("《从Web2到Web3》一文认为产业互联网征战Web3有哪几个突破口？", mode="retrieval")
    lines = answer.answer.split("\n")
    assert lines[0] == "产业互联网征战Web3 的四个突破口："
    assert [line.split("：")[0] for line in lines[1:]] == ["1. 跨产业链互联互通", "2. 产销全程让权用户", "3. Web3式出海",
                                                        "4. Web3技术产业化"]
    assert lines[1].endswith("实现跨生态共赢。[1]")
    assert [c.passage.split("\n")[0] for c in answer.citations] == [line.split("：")[0] for line in lines[1:]]


def test_an_article_without_headings_or_a_question_off_its_headings_is_read(engine: Engine):
    # 《风口频出下…》 has no section headings: the reader answers.
    plain = engine.ask("《风口频出下,产业互联网的脚步近了》主要讲了什么？", mode="retrieval")
    assert "分为" not in plain.answer and plain.citations
    # 《画卷》's headings do not speak of B端 and C端 流量: its comparison is in the text.
    compared = engine.ask("《产业互联网的画卷，正徐徐展开》是从哪几个方面来比较B端流量和C端流量的？", mode="retrieval")
    assert "分为" not in compared.answer and "规模" in compared.answer
    # The headings of 《当元宇宙…》 do not speak of Web3's 出海: the reader answers.
    off = engine.ask(f"《{METAVERSE}》从哪几个方面讲Web3出海？", mode="retrieval")
    assert "分为四个部分" not in off.answer
