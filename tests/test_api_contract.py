"""The OpenAPI schema and the behaviour agree: schemathesis against a real server, plus the cases it found."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, make_settings
from serve import running_server

from api.app import create_app
from rag.engine import Engine
from rag.settings import Settings

KEY = "sk-contract"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Bounded for CI (about 700 requests, ~20 s here); a longer local run: raise it, change the seed.
MAX_EXAMPLES = 50
SEED = 1


@pytest.fixture(scope="module")
def settings(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The admin token equals the API key so that one header opens every route to the fuzzer,
    the document routes included: it may delete, upload and re-index, so it gets copies of the
    corpus and of the index (the sample articles and the session's index must survive it)."""
    root = tmp_path_factory.mktemp("contract")
    shutil.copytree(CORPUS, root / "corpus")
    shutil.copytree(index_dir, root / "index")
    return make_settings(root / "index", corpus_dir=root / "corpus", api_keys=[KEY], admin_token=KEY,
                         rate_limit_per_minute=0, mode="retrieval")


@pytest.fixture(scope="module")
def base_url(settings: Settings, engine: Engine) -> Iterator[str]:
    with running_server(create_app(settings, engine=engine)) as url:
        yield url


def test_the_fuzzed_server_works_on_copies_of_the_corpus_and_index(settings: Settings, index_dir: Path):
    assert settings.corpus_dir.resolve() != CORPUS.resolve()
    assert settings.index_dir.resolve() != index_dir.resolve()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(base_url: str, tmp_path: Path):
    """Generated valid and invalid requests for every operation; any 5xx, undocumented status,
    response that breaks its schema, invalid request accepted or wrong Allow header fails."""
    cli = Path(sys.executable).with_name("schemathesis")
    done = subprocess.run(
        [str(cli), "run", f"{base_url}/openapi.json", "-H", f"Authorization: Bearer {KEY}",
         "--checks", "all",
         # A request valid by the schema may still be refused for a reason no schema states
         # ("the last message must be the user's", a question over the length limit in a history).
         "--exclude-checks", "positive_data_acceptance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
         # One worker: CPython 3.11's ast.parse keeps its recursion depth in interpreter-wide state,
         # so two threads describing hypothesis strategies at once can fail with "AST constructor
         # recursion depth mismatch" (a harness error seen under load, not an API failure).
         "--workers", "1", "--generation-database", "none", "--no-color", "--request-timeout", "60"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated and int(generated.group(2)) > 100, done.stdout[-3000:]


def test_options_on_healthz_lists_get_and_head(base_url: str):
    response = httpx.options(base_url + "/healthz")
    assert response.status_code == 405
    assert sorted(m.strip() for m in response.headers["allow"].split(",")) == ["GET", "HEAD"]
    assert httpx.head(base_url + "/healthz").status_code == 200


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/api/chat", {"messages": [{"role": "user", "content": "产业互联网"}], "stream": "yes"},
     "字段 stream 应为布尔值（true 或 false）。"),
    ("/api/chat", {"messages": [{"role": "user", "content": "产业互联网"}], "top_k": "5"}, "字段 top_k 应为整数。"),
    ("/api/ask", {"question": "产业互联网", "top_k": "5"}, "字段 top_k 应为整数。"),
    ("/api/ask", {"question": 5}, "字段 question 应为字符串。"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "产业互联网"}], "stream": "yes"},
     "字段 stream 应为布尔值（true 或 false）。"),
])
def test_json_types_are_not_converted(base_url: str, path: str, body: dict, message: str):
    response = httpx.post(base_url + path, json=body, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (422, {"error": {"code": "invalid_request", "message": message}})


def test_deeply_nested_json_is_named_as_such(base_url: str):
    body = "[" * 1000 + "]" * 1000
    response = httpx.post(base_url + "/api/ask", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"error": {
        "code": "json_too_deep", "message": "请求体的 JSON 嵌套层数过多，请发送结构简单的 JSON 对象。"}})


def test_schema_documents_every_error_status_and_the_question_rules(base_url: str, settings: Settings):
    schema = httpx.get(base_url + "/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if path.startswith(("/api/", "/v1/")):
                assert {"401", "503"} <= codes or path.startswith("/api/admin"), (method, path, codes)
                assert "401" in codes and operation["security"], (method, path)
            if method == "post":
                assert {"413", "415"} <= codes, (method, path, codes)
            # Validated input can be invalid (422); a multipart upload is parsed by its route (400).
            json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
            if json_body or operation.get("parameters"):
                assert "422" in codes, (method, path, codes)
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert (question["minLength"], question["pattern"], question["maxLength"]) == (1, r"\S",
                                                                                  settings.max_question_chars)
    (q,) = [p for p in schema["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q"]
    assert (q["schema"]["minLength"], q["schema"]["pattern"]) == (1, r"\S")


def test_without_api_keys_the_public_routes_declare_no_security(index_dir: Path, engine: Engine):
    app = create_app(make_settings(index_dir), engine=engine)
    schema = app.openapi()
    assert "security" not in schema["paths"]["/api/ask"]["post"]
    assert schema["paths"]["/api/admin/reload"]["post"]["security"] == [{"adminToken": []}]
