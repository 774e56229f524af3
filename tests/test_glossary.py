"""The domain glossary: a question in everyday words is searched with the articles' own terms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.engine import Engine
from rag.glossary import BUILTIN, BUILTIN_SPELLINGS, Glossary


def test_the_articles_term_follows_the_first_everyday_word_once():
    g = Glossary(BUILTIN)
    assert g.expand("企业客户和普通消费者有什么不同？") == "企业客户（B端）和普通消费者（C端）有什么不同？"
    # The longest alias wins (面向企业的互联网 holds no shorter one), and a term is added once.
    assert g.expand("普通消费者和个人用户") == "普通消费者（C端）和个人用户"
    assert g.expand("做面向企业的互联网生意难吗？") == "做面向企业的互联网（产业互联网）生意难吗？"


def test_another_spelling_of_a_term_is_replaced_by_it():
    g = Glossary(BUILTIN, BUILTIN_SPELLINGS)
    assert g.expand("做toB生意难吗？") == "做B端生意难吗？"
    assert g.expand("做TOB生意难吗？") == "做B端生意难吗？"
    assert g.expand("to B和to C有什么不同？") == "B端和C端有什么不同？"
    assert g.respells_only("to B和to C有什么不同？") and not g.respells_only("企业客户和toC有什么不同？")
    assert g.expand("toB企业和toB平台") == "B端企业和B端平台"  # every time it stands
    for question in ("你真2B", "1.2B参数的模型", "v1.toB"):
        assert g.expand(question) == question


def test_a_question_that_already_uses_the_term_is_unchanged():
    g = Glossary(BUILTIN)
    for question in ("B端客户和C端用户", "b端企业客户和C端有什么不同", "产业互联网和消费互联网有什么区别？"):
        assert g.expand(question) == question


def test_a_latin_alias_does_not_match_inside_a_word():
    g = Glossary(BUILTIN, BUILTIN_SPELLINGS)
    for question in ("How to build a protocol?", "stocks in October", "what does toBe mean"):
        assert g.expand(question) == question
    assert g.expand("how to B?") == "how B端?"


def test_an_alias_is_matched_whatever_its_case_without_failing_on_unusual_letters():
    g = Glossary({"SaaS": ("software service",)})
    assert g.expand("Software Service 是什么") == "Software Service（SaaS） 是什么"
    assert g.expand("ſoftware ſervice 是什么") == "ſoftware ſervice（SaaS） 是什么"  # casefolds to the alias


def test_off_changes_nothing():
    assert Glossary.load("off").expand("企业客户和普通消费者") == "企业客户和普通消费者"


def test_a_glossary_file_takes_tabs_and_colons(tmp_path: Path):
    path = tmp_path / "glossary.txt"
    path.write_text("# 自己的术语表\n数字孪生\t虚拟映射, 数字镜像\nMES：制造执行系统、车间管理系统  # 车间\n"
                    "C#\tC sharp\t西沙普\n\n数字孪生\t= digital twin, DT\n", encoding="utf-8")
    g = Glossary.load(str(path))
    assert g.expand("车间管理系统和虚拟映射是什么关系？") == "车间管理系统（MES）和虚拟映射（数字孪生）是什么关系？"
    assert g.expand("西沙普难学吗？") == "西沙普（C#）难学吗？"
    assert g.expand("Digital Twin难学吗？") == "数字孪生难学吗？"
    assert dict(g.spellings) == {"数字孪生": ("digital twin", "DT")}
    assert dict(g.terms) == {"数字孪生": ("虚拟映射", "数字镜像"), "MES": ("制造执行系统", "车间管理系统"),
                             "C#": ("C sharp", "西沙普")}


def test_a_broken_glossary_file_is_a_settings_error_naming_its_line(tmp_path: Path):
    from rag.settings import Settings

    path = tmp_path / "glossary.txt"
    path.write_text("数字孪生\t虚拟映射\n没有别名的一行\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="line 2"):
        Settings(glossary=str(path))
    with pytest.raises(ValidationError, match="cannot read"):
        Settings(glossary=str(tmp_path / "missing.txt"))
    assert Settings(glossary="").glossary == "builtin"  # RAG_GLOSSARY= unsets it


def test_the_cli_names_a_missing_glossary_file_in_one_line(tmp_path: Path):
    from conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    done = subprocess.run([sys.executable, "-m", "cli.main", "ask", "测试"], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "RAG_GLOSSARY": str(tmp_path / "missing.txt")}, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"错误：配置无效（环境变量 RAG_*）：glossary: Value error, cannot read the glossary "
                                   f"file {tmp_path / 'missing.txt'}: No such file or directory")


# Questions in a reader's words for what article 003 says of B端 and C端 流量 (not from any eval set).
EVERYDAY = ("和普通消费者比，企业客户在花钱买服务时更看重什么？", "企业客户的流量和个人用户的流量有什么不同？")


@pytest.mark.parametrize("question", EVERYDAY)
def test_a_question_in_everyday_words_finds_the_passage_in_the_articles_terms(engine: Engine, question: str):
    answer = engine.ask(question, mode="retrieval")
    assert not answer.refused
    assert answer.query == Glossary(BUILTIN).expand(question)
    assert answer.citations and answer.citations[0].article_id.startswith("003")
    assert "B端" in answer.answer and "C端" in answer.answer


@pytest.mark.parametrize("question", EVERYDAY)
def test_without_the_glossary_the_same_question_is_refused(engine: Engine, question: str):
    """What the glossary is for: the dense similarity of these questions falls under the floor."""
    plain = Engine(engine.settings.model_copy(update={"glossary": "off"}), engine.index, engine.embedder)
    assert plain.ask(question, mode="retrieval").refused


def test_a_question_answered_in_its_own_words_is_searched_as_asked(engine: Engine):
    """The glossary's terms are added only for a question that would be refused (Retriever.search)."""
    question = "为什么烧钱补贴那一套很难培养企业客户的使用习惯？"
    answer = engine.ask(question, mode="retrieval")
    assert not answer.refused and answer.query == question
    assert Glossary(BUILTIN).expand(question) != question  # it holds an alias (企业客户)


CALIBRATION = Path(__file__).resolve().parents[1] / "bench" / "questions" / "calib_glossary.jsonl"


def test_off_topic_questions_holding_an_everyday_word_stay_refused(engine: Engine):
    """The glossary's terms lift off-topic questions too (C端 in 「个人消费者怎么办信用卡？」): the search
    they needed must clear the floor by a margin (bench/questions/calib_glossary.jsonl)."""
    import json

    items = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines()]
    off = [it["question"] for it in items
           if it["kind"] == "off_topic_alias"
           and Glossary(BUILTIN, BUILTIN_SPELLINGS).expand(it["question"]) != it["question"]]
    assert len(off) == 14  # those holding an alias: the second search runs for each
    assert [q for q in off if not engine.ask(q, mode="retrieval").refused] == []


@pytest.mark.parametrize("question", ["to B和to C有什么不同？", "toB和toC的区别是啥"])
def test_a_question_spelling_the_terms_otherwise_is_answered_as_with_the_terms(engine: Engine, question: str):
    answer = engine.ask(question, mode="retrieval")
    assert not answer.refused and answer.query.startswith("B端和C端"), answer.query
    assert "B端" in answer.answer and "C端" in answer.answer


def test_the_sectors_english_name_in_a_chinese_question_is_read_as_its_term(engine: Engine):
    # Fresh-user probe 24: 「industrial internet 的关键是什么？」 was refused.
    answer = engine.ask("industrial internet 的关键是什么？", mode="retrieval")
    assert not answer.refused and answer.query.startswith("产业互联网"), answer.query
    assert Glossary(BUILTIN, BUILTIN_SPELLINGS).expand("Metaverse和Blockchain有什么关系？") == "元宇宙和区块链有什么关系？"
    # Fresh-user probe 25: respelled, a question is kept when relevant as any question is (its dense
    # relevance alone was under the floor), and the technologies' English names are read too.
    for question, query, said in (("digital twin在文章里是怎么用的？", "数字孪生在文章里是怎么用的？", "宝马"),
                                  ("supply chain和区块链结合能干什么？", "供应链和区块链结合能干什么？", "区块链跟供应链融合")):
        answer = engine.ask(question, mode="retrieval")
        assert (answer.refused, answer.query) == (False, query) and said in answer.answer, answer.answer
