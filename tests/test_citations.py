"""Citation verification: invented and unsupported markers go, the rest are renumbered."""

from __future__ import annotations

from dataclasses import replace

import pytest
from llm_server import sample_hits

from rag.answer.citations import SUPPORT_THRESHOLD, Verified, source_lines, strip_markers, support, verify
from rag.types import Citation

# Passages: [1] 000 "第8年", [2] 001 "一场春雨", [3] 004 "C端消费者", [4] 003 "B端更加理性".
HITS = sample_hits()
EIGHT_YEARS = "作者今年是混产业互联网的第8年"
SPRING_RAIN = "对于产业互联网来讲，元宇宙如同一场春雨、一个样板和一次深井钻探"
C_END = "消费互联网时代玩家们主要改变的是C端消费者，并未改变B端产业端"
B_RATIONAL = "B端的流量比C端更加理性、更加实际"


def cite(*pairs: tuple[int, int]) -> tuple[Citation, ...]:
    """Citations (new number, 1-based passage number)."""
    return tuple(Citation.from_hit(n, HITS[p - 1]) for n, p in pairs)


def test_supported_citations_are_kept_as_written():
    text = f"{EIGHT_YEARS}[1]。{SPRING_RAIN}[2]。"
    assert verify(text, HITS) == Verified(text=text, citations=cite((1, 1), (2, 2)), grounded=True, dropped=())


def test_citation_carries_the_passage_and_its_article():
    (citation,) = verify(f"{SPRING_RAIN}[2]。", HITS).citations
    assert citation.to_dict() == {
        "n": 1,
        "article_id": "001_e3c7ae41c0c3d234",
        "source": "001_e3c7ae41c0c3d234.txt",
        "title": "当元宇宙遇上产业互联网",
        "author": "人人都是产品经理",
        "date": "2021-11-20",
        "url": None,
        "passage": HITS[1].chunk.text,
        "start": 4288,
        "end": 4401,
        "score": 0.8,
        "chunk_id": "001_e3c7ae41c0c3d234:1",
    }


def test_invented_marker_is_removed():
    text = f"{EIGHT_YEARS}[1][9]。元宇宙最早出自科幻小说《雪崩》[9]。"
    assert verify(text, HITS) == Verified(
        text=f"{EIGHT_YEARS}[1]。元宇宙最早出自科幻小说《雪崩》。",
        citations=cite((1, 1)),
        grounded=True,
        dropped=(9,),
    )


def test_marker_zero_refers_to_no_passage():
    assert verify(f"{EIGHT_YEARS}[0]。", HITS) == Verified(
        text=f"{EIGHT_YEARS}。", citations=(), grounded=False, dropped=(0,)
    )


def test_citation_of_the_wrong_passage_is_dropped_and_the_rest_renumbered():
    # The first sentence comes from passage 3, not 2.
    text = f"{C_END}[2]。{B_RATIONAL}[4]。"
    assert verify(text, HITS) == Verified(
        text=f"{C_END}。{B_RATIONAL}[1]。",
        citations=cite((1, 4)),
        grounded=True,
        dropped=(2,),
    )


def test_only_unsupported_citations_leave_the_answer_ungrounded():
    text = "元宇宙最早出自科幻小说《雪崩》[2]。区块链是产业互联网下半场的基石[1]。"
    assert verify(text, HITS) == Verified(
        text="元宇宙最早出自科幻小说《雪崩》。区块链是产业互联网下半场的基石。",
        citations=(),
        grounded=False,
        dropped=(2, 1),
    )


def test_answer_without_markers_is_not_grounded():
    text = "产业互联网的能量将得到充分释放。"
    assert verify(text, HITS) == Verified(text=text, citations=(), grounded=False, dropped=())


def test_markers_are_renumbered_in_order_of_first_appearance():
    text = f"{B_RATIONAL}[4]。{EIGHT_YEARS}[1]。相对于C端的盲目，B端的流量更加理性[4]。"
    assert verify(text, HITS) == Verified(
        text=f"{B_RATIONAL}[1]。{EIGHT_YEARS}[2]。相对于C端的盲目，B端的流量更加理性[1]。",
        citations=cite((1, 4), (2, 1)),
        grounded=True,
        dropped=(),
    )


def test_full_width_and_list_markers_are_normalised():
    text = f"{EIGHT_YEARS}【1】。{C_END} [3, 1]。{SPRING_RAIN}[2，2]。"
    assert verify(text, HITS) == Verified(
        text=f"{EIGHT_YEARS}[1]。{C_END}[2]。{SPRING_RAIN}[3]。",
        citations=cite((1, 1), (2, 3), (3, 2)),
        grounded=True,
        dropped=(1,),
    )


def test_marker_after_the_full_stop_belongs_to_the_sentence_before():
    text = f"{EIGHT_YEARS}。[1]\n{B_RATIONAL}。[2]"
    assert verify(text, HITS) == Verified(
        text=f"{EIGHT_YEARS}。[1]\n{B_RATIONAL}。",
        citations=cite((1, 1)),
        grounded=True,
        dropped=(2,),
    )


@pytest.mark.parametrize(
    "template",
    ["文章写道：“{s}。”[{n}]", "1. **{s}。**[{n}]", "「{s}。」[{n}]", "（{s}。）[{n}]", "{s}[{n}]。"],
    ids=["quote", "bold", "corner-quote", "parenthesis", "plain"],
)
def test_marker_after_a_closing_quote_or_bold_belongs_to_the_sentence_inside(template: str):
    right = verify(template.format(s=SPRING_RAIN, n=2), HITS)
    assert (right.citations, right.dropped) == (cite((1, 2)), ())
    wrong = verify(template.format(s=SPRING_RAIN, n=1), HITS)
    assert (wrong.citations, wrong.dropped) == ((), (1,))


@pytest.mark.parametrize("gap", ["、", "，", "和", " "], ids=["enumeration-comma", "comma", "he", "space"])
def test_markers_joined_by_a_separator_form_one_run(gap: str):
    merged = "作者混产业互联网第8年，元宇宙如同一场春雨"
    assert verify(f"{merged}[1]{gap}[2]。", HITS) == Verified(
        text=f"{merged}[1][2]。", citations=cite((1, 1), (2, 2)), grounded=True, dropped=()
    )


def test_marker_that_opens_its_sentence_is_checked_against_the_text_after_it():
    assert verify(f"[2] {SPRING_RAIN}。", HITS).citations == cite((1, 2))
    assert verify(f"[1] {SPRING_RAIN}。", HITS).citations == ()


def test_ranges_and_full_width_square_brackets_are_markers():
    merged = "作者混产业互联网第8年，元宇宙如同一场春雨"
    assert verify(f"{merged}[1-2]。", HITS).text == f"{merged}[1][2]。"
    assert verify(f"{SPRING_RAIN}［2］。", HITS).text == f"{SPRING_RAIN}[1]。"
    assert verify(f"{SPRING_RAIN}[1–3]。", HITS).citations == cite((1, 2))


def test_each_clause_is_checked_against_its_own_marker():
    text = f"{EIGHT_YEARS}[1]，{SPRING_RAIN}[2]。"
    assert verify(text, HITS).citations == cite((1, 1), (2, 2))
    # The same clauses with swapped markers are both wrong.
    swapped = verify(f"{EIGHT_YEARS}[2]，{SPRING_RAIN}[1]。", HITS)
    assert (swapped.text, swapped.citations, swapped.dropped) == (
        f"{EIGHT_YEARS}，{SPRING_RAIN}。",
        (),
        (2, 1),
    )


def test_sentence_merging_two_passages_keeps_both_markers_of_its_run():
    merged = "作者混产业互联网第8年，元宇宙如同一场春雨"
    # Passage 1 alone covers too little of the sentence to stand as its only source ...
    assert verify(f"{merged}[1]。", HITS).citations == ()
    # ... but together with passage 2 it covers it, and its own share is substantial.
    assert verify(f"{merged}[1][2]。", HITS) == Verified(
        text=f"{merged}[1][2]。", citations=cite((1, 1), (2, 2)), grounded=True, dropped=()
    )


def test_repeated_marker_in_one_run_is_collapsed():
    assert verify(f"{EIGHT_YEARS}[1][1]。", HITS).text == f"{EIGHT_YEARS}[1]。"


def test_no_hits_means_every_marker_is_invented():
    assert verify(f"{EIGHT_YEARS}[1]。", []) == Verified(
        text=f"{EIGHT_YEARS}。", citations=(), grounded=False, dropped=(1,)
    )


def test_source_lines_tell_two_passages_of_one_article_apart():
    one, two = Citation.from_hit(1, HITS[0]), Citation.from_hit(2, HITS[1])
    twin = replace(two, n=3, article_id=one.article_id, title=one.title, author=one.author, date=one.date)
    lines = source_lines((one, two, twin))
    assert lines[1] == f"[2] {two.title} — {two.author}，{two.date}"  # alone: no excerpt
    head = " ".join(one.passage.split())
    assert lines[0] == f"[1] {one.title} — {one.author}，{one.date}：“{head[:24]}…”"
    assert lines[2].startswith(f"[3] {one.title} — {one.author}，{one.date}：“{' '.join(two.passage.split())[:24]}")
    assert source_lines((one,), with_file=True) == [f"[1] {one.title} — {one.author}，{one.date}（{one.source}）"]


def test_strip_markers_removes_every_form_but_leaves_years():
    assert strip_markers("答案[1]【2】[3,4][5、6]［7］[1-2]。见[2021]年报告。") == "答案。见[2021]年报告。"


@pytest.mark.parametrize(
    ("sentence", "passage", "expected"),
    [
        ("今年是我混产业互联网的第8年", 0, 1.0),
        ("元宇宙最早出自科幻小说《雪崩》", 0, 0.0),
        ("。！？", 0, 0.0),
    ],
)
def test_support_extremes(sentence: str, passage: int, expected: float):
    assert support(sentence, HITS[passage].chunk.text) == expected


def test_support_separates_right_and_wrong_passage_around_the_threshold():
    pool = [h.chunk.text for h in HITS]
    scores = [support(C_END, p, pool) for p in pool]
    assert [s >= SUPPORT_THRESHOLD for s in scores] == [False, False, True, False]


def test_markers_naming_no_passage_are_dropped_and_a_run_keeps_its_good_numbers():
    from rag.answer.citations import drop_unknown_markers

    assert drop_unknown_markers("主战场在产业上 [9]。元宇宙如同春雨[1,4]。", 2) == "主战场在产业上。元宇宙如同春雨[1]。"
