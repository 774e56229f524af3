"""Questions about an article's structure, answered from its headings (rag.answer.outline)."""

from __future__ import annotations

import pytest

from ingest.chunk import chunk_article
from rag.answer.outline import outline, outline_answer, place_answer
from rag.engine import Engine
from rag.types import Article, ArticleMeta, Chunk, Hit, Message

METAVERSE = "当元宇宙遇上产业互联网"


def _chunks(*headings: str | None, continued: int = -1) -> list[Chunk]:
    """One chunk per heading (None: a chunk without one), as ingest writes them: a section's first
    chunk opens with its heading line; chunk ``continued`` goes on with the section before."""
    return [Chunk(f"c{i}", "a", i, f"{h}\n正文第{i}段。" if h and i != continued else f"正文第{i}段。", 0, 1, h)
            for i, h in enumerate(headings)]


def test_sections_nest_by_numbering_style():
    sections = outline(_chunks(None, "一、起点", "一、起点", "1. 甲", "2. 乙", "（1）细节", "二、终局", "三、结语", "#专栏作家#",
                               continued=2))
    assert [(s.heading, s.level) for s in sections] == [
        ("一、起点", 0), ("1. 甲", 1), ("2. 乙", 1), ("（1）细节", 2), ("二、终局", 0), ("三、结语", 0)]
    # A section's sentences run to the next heading, across its chunks; the lead belongs to none.
    assert [text for _, text in sections[0].sentences] == ["正文第1段。", "正文第2段。"]
    assert sections[0].chunk.ordinal == 1
    # 「一、」 is above 「1.」 wherever the article first uses either (a numbered list in the lead).
    assert [s.level for s in outline(_chunks("1. 甲", "一、子", "二、丑"))] == [1, 0, 0]


def _article(text: str, title: str = "转型指南") -> tuple[list[Chunk], ArticleMeta]:
    """``text`` chunked as ingest chunks it."""
    meta = ArticleMeta("a", "a.txt", title)
    return chunk_article(Article(meta, text, "h")), meta


def _answer(question: str, text: str, named: bool = False) -> str | None:
    chunks, meta = _article(text)
    found = outline_answer(question, [("a", "《转型指南》")] if named else [], ["a"],
                           lambda _: outline(chunks, meta.title), lambda _: meta)
    return found.text if found else None


LIST = ("企业转型并不容易。\n二、转型的三个抓手\n总的来说如下。\n1. 数据\n数据是第一个抓手，没有数据就没有转型。后面还有。\n"
        "2. 人才\n人才要培养；也要从外面引进，两条腿走路。\n3. 资金\n" + "长" * 100 + "。\n三、结语\n完。")


def test_a_list_under_a_heading_that_counts_its_items():
    expected = ("转型的三个抓手：\n1. 数据：数据是第一个抓手，没有数据就没有转型。[1]\n"
                "2. 人才：人才要培养；也要从外面引进，两条腿走路。[2]\n3. 资金[3]")  # its first sentence is too long
    assert _answer("企业转型有哪几个抓手？", LIST) == expected
    assert _answer("企业转型的抓手有哪些？", LIST) == expected  # the word before the question word
    # Not a list the headings count, a subject they do not hold, nor an outline: the reader answers.
    assert _answer("企业转型有哪些难点？", LIST) is None
    assert _answer("区块链有哪几个抓手？", LIST) is None
    assert _answer("数据为什么是抓手？", LIST, named=True) is None


def test_heading_parsing_keeps_to_the_argument():
    # A parent heading with no body of its own travels with its first child: both are headings.
    long_parent = "二、这是一个超过二十四个字符的很长很长的父级标题说明四个方面"
    chunks, _ = _article(f"导语一句。\n一、起点\n起点的正文。\n{long_parent}\n1. 甲\n甲的正文。\n2. 乙\n乙的正文。\n三、终局\n终局的正文。")
    assert [(s.heading, s.level) for s in outline(chunks)] == [
        ("一、起点", 0), (long_parent, 0), ("1. 甲", 1), ("2. 乙", 1), ("三、终局", 0)]
    # 小结 between sections is no part; 尾声 inside a heading does not make it the closing words.
    text = "导语。\n一、消费互联网走向尾声\n正文一。\n小结\n小结一。\n二、产业互联网兴起\n正文二。\n小结\n小结二。\n三、未来\n正文三。"
    assert _answer("《转型指南》分几个部分？", text, named=True) == (
        "《转型指南》分为三个部分：一、消费互联网走向尾声[1]；二、产业互联网兴起[2]；三、未来[3]。")
    # An article without headings: short lines after its first sentence, two or more, no byline
    # or caption; one emphasised line is no outline.
    plain = "文/孟永辉\n图片来源：网络\n开头的一段话。\n流量不是关键\n流量的正文。\n平台不是形态\n平台的正文。"
    chunks, _ = _article(plain)
    assert [s.heading for s in outline(chunks, "转型指南")] == ["流量不是关键", "平台不是形态"]
    chunks, _ = _article("开头的一段话。\n这就是未来\n后面的正文。")
    assert outline(chunks, "转型指南") == []


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


@pytest.mark.parametrize("question", [f"总结一下《{METAVERSE}》这篇文章", f"概括一下《{METAVERSE}》", f"请归纳《{METAVERSE}》"])
def test_asked_to_sum_up_an_article_its_parts_are_given_with_what_each_says(engine: Engine, question: str):
    answer = engine.ask(question, mode="retrieval")
    heading, *lines = answer.answer.split("\n")
    assert heading == f"《{METAVERSE}》分为四个部分：", answer.answer
    assert [line.split("：")[0] for line in lines] == [
        "一、元宇宙让产业互联网得到了复现", "二、元宇宙让产业互联网不再是假想", "三、元宇宙让产业互联网有了生机",
        "四、元宇宙让产业互联网得到了释放"]
    # ... not asked of an article, 「总结一下…」 is a question like any other.
    assert "分为" not in engine.ask("总结一下产业互联网的特点", mode="retrieval").answer


@pytest.mark.parametrize("question", ["元宇宙对产业互联网有哪些作用？", "元宇宙给产业互联网带来了哪些改变？",
                                      # Fresh-user probe 23: 「有什么作用」 got the last part's sentences only.
                                      "元宇宙对产业互联网有什么作用？", "元宇宙对产业互联网有什么影响？"])
def test_a_list_question_whose_subjects_every_part_of_an_article_names_gets_those_parts(engine: Engine, question: str):
    # Each of the article's parts states one: 「元宇宙让产业互联网得到了复现」「…不再是假想」…
    answer = engine.ask(question, mode="retrieval")
    assert [line.split("：")[0] for line in answer.answer.split("\n")[1:]] == [
        "一、元宇宙让产业互联网得到了复现", "二、元宇宙让产业互联网不再是假想", "三、元宇宙让产业互联网有了生机",
        "四、元宇宙让产业互联网得到了释放"], answer.answer
    # One subject named by every heading of an article is no list of its parts.
    assert "分为" not in engine.ask("产业互联网有哪些特点？", mode="retrieval").answer


def test_an_article_without_headings_is_summed_up_by_its_view(engine: Engine):
    # Fresh-user probe 23: 「总结一下《风口频出下…》」 got its closing lines only.
    for asked in ("总结一下《风口频出下,产业互联网的脚步近了》", "《风口频出下,产业互联网的脚步近了》讲了什么？"):
        answer = engine.ask(asked, mode="retrieval").answer
        assert answer.startswith("《风口频出下,产业互联网的脚步近了》没有分节的小标题，它的主要观点：\n1. 所谓的产业互联网"), answer
        assert "跳出流量的思维" in answer and answer.count("\n") == 3, answer


def test_an_article_named_without_brackets_gets_its_sections(engine: Engine):
    # Readers type titles without 《》: 「…这篇文章」 says it is one.
    answer = engine.ask("产业互联网需要被正名这篇文章讲了什么？", mode="retrieval").answer
    assert answer.startswith("《产业互联网需要被正名》分为三个部分")
    assert "一、产业互联网的主战场在于产业" in answer
    # 「…这篇分几个部分？」 (without 文章: jieba reads 这篇分 as a word; fresh-user probe 28).
    answer = engine.ask("从Web2到Web3这篇分几个部分？", mode="retrieval").answer
    assert answer.startswith("《从Web2到Web3，产业互联网进入_争气_时代？》分为三个部分"), answer


def test_what_a_named_article_says_is_never_refused_even_without_headings(engine: Engine):
    # 「风口频出下」 (a part of the title, 这篇 after it) names the article, which has no headings:
    # the reader answers from it; a title the library does not hold is still refused.
    answer = engine.ask("风口频出下这篇文章的核心观点是什么？", mode="retrieval")
    assert not answer.refused and answer.citations
    assert {c.title for c in answer.citations} == {"风口频出下,产业互联网的脚步近了"}
    assert engine.ask("《三体》主要讲了什么？", mode="retrieval").refused


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


@pytest.mark.parametrize("question", [
    "有哪些产业互联网公司？",  # 产业互联网 is in the heading 「…征战Web3 的四个突破口」, but not counted by it
    "有哪些产业互联网企业在征战Web3？",
    "《当元宇宙遇上产业互联网》讲了哪些元宇宙的例子？",  # a detail of the article, not its outline
    "《产业互联网需要被正名》讲了哪些改造产业的手段？",
    "《产业互联网的画卷，正徐徐展开》主要讲了平台的什么问题？",
    "《产业互联网需要被正名》哪个部分讲了回归与反哺？",
    "那篇时代感很强的文章主要讲了什么？",  # one stray bigram of a title names no article
    "《产业互联网需要被正名》中产业互联网的产业链分为哪几个部分？",  # parts of the subject, not of the article
    "《产业互联网需要被正名》认为产业互联网由哪几个部分组成？",
    "《当元宇宙遇上产业互联网》的作者从哪几个方面改变了产业互联网的玩家？",
    "《产业互联网需要被正名》的作者还写了什么？",
    "产业互联网征战Web3的突破口有哪些风险？",  # 哪些 asks for 风险, not for 突破口
])
def test_questions_that_only_look_like_outline_questions_are_read(engine: Engine, question: str):
    retrieval = engine.retriever.search(question)
    assert engine._outline(retrieval) is None
    assert "个部分" not in engine.ask(question, mode="retrieval").answer


@pytest.mark.parametrize("question", [
    "产业互联网征战Web3的四个突破口分别是什么？",
    "产业互联网征战Web3的突破口有几个？",
    "产业互联网征战Web3有哪四个突破口？",
])
def test_other_ways_of_asking_for_a_counted_list(engine: Engine, question: str):
    assert engine.ask(question, mode="retrieval").answer.startswith("产业互联网征战Web3 的四个突破口：\n1. 跨产业链互联互通")


def test_one_part_of_a_named_article_by_its_place(engine: Engine):
    answer = engine.ask("《产业互联网的画卷，正徐徐展开》的第二个小标题是什么？", mode="retrieval")
    assert answer.answer.startswith("《产业互联网的画卷，正徐徐展开》的第二部分是：平台，绝非是产业互联网的形态："), answer.answer
    third = engine.ask("《产业互联网需要被正名》第三部分讲了什么？", mode="retrieval").answer
    assert third.startswith("《产业互联网需要被正名》的第三部分是：三、产业互联网是一次回归与反哺："), third
    # Something asked of a part, or of two: read as any question.
    for question in ("《产业互联网需要被正名》第二部分提到的前端指什么？", "《产业互联网需要被正名》第二部分和第三部分有什么区别？"):
        assert "部分是" not in engine.ask(question, mode="retrieval").answer, question


def test_a_quoted_word_a_list_question_asks_for_gets_the_headings_that_hold_it(engine: Engine):
    answer = engine.ask("《产业互联网的画卷，正徐徐展开》提出了哪几个“绝非”？", mode="retrieval").answer
    lines = answer.split("\n")
    assert lines[0] == "《产业互联网的画卷，正徐徐展开》的小标题中有三个“绝非”：", answer
    assert [line.split("：")[0] for line in lines[1:]] == [
        "流量，绝非产业互联网的关键", "平台，绝非是产业互联网的形态", "互联网，绝非是产业互联网的本质"]
    # A quoted word fewer than two headings hold is read as any question.
    assert "小标题中有" not in engine.ask("《产业互联网的画卷，正徐徐展开》提出了哪些“留量”？", mode="retrieval").answer


def test_unnumbered_headings_over_a_numbered_list_and_lists_that_are_no_headings():
    # Unnumbered section lines with a numbered list under one of them: the lines are the parts.
    mixed = ("开头的一段话。\n产业互联网老卡壳\n卡壳的原因很多。\n突破口在哪里\n我们看到四个突破口。\n1. 跨产业链互联互通\n"
             "新技术连接产业链。\n2. 产销全程让权用户\n企业根据需求倒推生产。\n技术重塑社会文明\n技术将变成制度。")
    chunks, _ = _article(mixed)
    assert [(s.heading, s.level) for s in outline(chunks, "转型指南")] == [
        ("产业互联网老卡壳", 0), ("突破口在哪里", 0), ("1. 跨产业链互联互通", 1), ("2. 产销全程让权用户", 1),
        ("技术重塑社会文明", 0)]
    # Short lines in a row, or after a line ending in 「：」, are a list: no outline.
    listed = ("开头的一段话。\n2019年市场规模3.2万亿元\n2020年市场规模3.9万亿元\n平台提供以下几类服务：\n采购撮合服务\n"
              "供应链金融服务\n最后一段话。")
    chunks, _ = _article(listed)
    assert outline(chunks, "转型指南") == []
    # 1.1 nests under 1.
    chunks, _ = _article("导语。\n1. 用户分析\n分析的正文。\n1.1 用户画像\n画像的正文。\n2. 竞品分析\n竞品的正文。")
    assert [(s.heading, s.level) for s in outline(chunks, "转型指南")] == [
        ("1. 用户分析", 0), ("1.1 用户画像", 1), ("2. 竞品分析", 0)]


def test_a_part_s_gist_is_its_point_not_the_view_it_refutes():
    text = ("开头的一段话。\n平台，绝非是产业互联网的形态\n人们会想当然地将平台模式，看成是产业互联网的主要表现形态。"
            "因此，点对点的供求对接，才是产业互联网的形态。\n流量，绝非产业互联网的关键\n留量，才是产业互联网的关键所在。")
    assert _answer("《转型指南》每部分讲了什么？", text, named=True) == (
        "《转型指南》分为两个部分：\n平台，绝非是产业互联网的形态：因此，点对点的供求对接，才是产业互联网的形态。[1]\n"
        "流量，绝非产业互联网的关键：留量，才是产业互联网的关键所在。[2]")


def test_a_follow_up_about_this_article_gets_its_outline(engine: Engine):
    first = "《产业互联网需要被正名》的作者是谁？"
    history = [Message("user", first), Message("assistant", engine.ask(first, mode="retrieval").answer)]
    answer = engine.ask("这篇文章主要讲了什么？", history=history, mode="retrieval")
    assert answer.query == "《产业互联网需要被正名》主要讲了什么？"
    assert answer.answer.startswith("《产业互联网需要被正名》分为三个部分，最后是结语：\n一、产业互联网的主战场在于产业：")


def test_what_the_opening_says_on_a_subject_starts_at_the_sentence_on_it():
    text = ("编辑导语：本文讲风口。\n一波未平，一波又起。元宇宙余热未散，ChatGPT成了新风口。有人说风口与产业无关。"
            "其实热点背后是产业的变化。")
    meta = ArticleMeta(article_id="a", source="a.md", title="风口来了")
    hit = Hit(rank=1, score=1.0, chunk=Chunk("a#0", "a", 0, text, 0, len(text)), article=meta)
    idf = lambda g: 1.0  # noqa: E731 - every bigram alike
    opening = place_answer("风口来了那篇文章开头是怎么说的？", ["风口来了那篇文章"], [hit], "start", idf)
    assert opening is not None and opening.text.startswith("一波未平，一波又起。[1]"), opening  # not the lead
    on = place_answer("风口来了那篇文章开头提到了哪两个风口？", ["风口来了那篇文章"], [hit], "start", idf)
    assert on is not None and on.text.startswith("元宇宙余热未散，ChatGPT成了新风口。[1]"), on
    close = place_answer("风口来了那篇的结尾说了什么？", ["风口来了那篇"], [hit], "end", idf)
    assert close is not None and close.text.endswith("其实热点背后是产业的变化。[1]"), close
    assert [c.n for c in close.citations] == [1]
