"""Characters typed for others of the same sound (rag.typos), on the real index."""

from __future__ import annotations

import pytest

from rag.engine import Engine
from rag.typos import corrected, same_sound


def test_same_sound_ignores_tones_and_leaves_the_character_out():
    assert "块" in same_sound("快") and "快" not in same_sound("快")
    assert "业" in same_sound("叶") and "链" in same_sound("琏")


def test_only_a_character_that_forms_bigrams_no_passage_holds_is_replaced():
    library = {"区块", "块链", "链为", "产业", "业是"}

    def idf(gram: str) -> float:
        return 1.0 if gram in library else 9.0

    assert corrected("区快链为", idf, 9.0) == ("区块链为", ["区块链"])
    # Known bigrams stay, and a protected position (a stopword) is never replaced.
    assert corrected("产业是", idf, 9.0) == ("产业是", [])
    assert corrected("区快链为", idf, 9.0, protected={1}) == ("区快链为", [])
    # A bigram with a stopword's character does not count (「建的」 → 「间的」), and a replacement's
    # window is not replaced again.
    common = {"区块", "块链", "间的"}

    def idf2(gram: str) -> float:
        return 1.0 if gram in common else 9.0

    assert corrected("区快链建的", idf2, 9.0, protected={4}) == ("区块链建的", ["区块链"])


@pytest.mark.parametrize(("question", "meant", "answer"), [
    ("区快链为什么是下半场的基石？", "区块链为什么是下半场的基石？", "区块链是产业互联网下半场的基石"),
    ("留亮是什么意思", "留量是什么意思", "留量"),
    ("Web3式初海是什么？", "Web3式出海是什么？", "TikTok"),
    ("什么是留亮？", "什么是留量？", "留量"),  # not then 流量, the word the article sets against it
])
def test_a_refused_question_with_a_same_sound_typo_is_answered_as_meant(engine: Engine, question, meant, answer):
    reply = engine.ask(question, mode="retrieval")
    assert (reply.refused, reply.query) == (False, meant) and answer in reply.answer, reply.answer


@pytest.mark.parametrize("question", [
    "有没有汽车厂在建厂前先在虚拟环境里把整座工厂模拟一遍的案例？",  # 汽车 is no typo for the library's 一车
    "扎克伯格的Meta到目前为止在元宇宙上累计投入了多少资金？",  # nor 多少 (a stopword) for 多招
    "家常红烧肉怎么做才能肥而不腻？",
    # Fresh-user probe 25: common words the library lacks (使用 → 是用, which 「就是用…」 holds), and
    # 讲到 (→ 将到, of 「即将到来」), which frames the question as 提到 does.
    "数字人民币怎么使用？",
    "作者讲到了哪些公司？",
])
def test_a_correct_word_the_library_lacks_is_not_rewritten(engine: Engine, question):
    assert engine.retriever.search(question).query == question
