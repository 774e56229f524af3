"""Run an ASGI app with a real uvicorn server on a free 127.0.0.1 port in a background thread, or
`rag serve --workers N` as a process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn


@contextmanager
def running_server(app, *, wait_ready: bool = True, ready_timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://127.0.0.1:<port>``).

    Waits until uvicorn has started and, with ``wait_ready``, until ``/readyz`` stops answering 503
    (apps without that route are ready at once).
    """
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP;
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    from api.app import uvicorn_options

    settings = getattr(app.state, "settings", None)
    options = uvicorn_options(settings) if settings is not None else {}
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5,
                            **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start in time")
            time.sleep(0.01)
        while wait_ready and httpx.get(base_url + "/readyz", timeout=5).status_code == 503:
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not become ready in time")
            time.sleep(0.05)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_get(url: str, headers: dict[str, str]) -> httpx.Response:
    """One request on a new connection: a kept-alive connection would stay with one worker."""
    return httpx.get(url, headers={**headers, "Connection": "close"}, timeout=30)


@contextmanager
def serving_workers(args: list[str], env: dict[str, str], cwd: Path, log: Path, admin: dict[str, str],
                    workers: int = 2, ready_timeout: float = 180) -> Iterator[tuple[str, dict[int, dict]]]:
    """`rag serve --workers N ARGS` on a free 127.0.0.1 port (``env`` needs RAG_ADMIN_TOKEN);
    yields its URL and ``/api/admin/stats`` as each worker first answered it, by pid, once every
    worker has; stopped when the block ends (stderr in ``log``)."""
    from conftest import stop_process

    rag = str(Path(sys.executable).with_name("rag"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen([rag, "serve", "--workers", str(workers), "--port", str(port), *args],
                                  cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=out)
    try:
        seen: dict[int, dict] = {}
        deadline = time.monotonic() + ready_timeout
        while len(seen) < workers and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                response = fresh_get(url + "/api/admin/stats", admin)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if response.status_code == 200:
                stats = response.json()["stats"]
                seen.setdefault(stats["pid"], stats)
            else:
                time.sleep(0.2)
        assert len(seen) == workers, log.read_text()
        yield url, seen
    finally:
        stop_process(server, timeout=30)


class Broken:
    """An engine whose every answer fails with an unexpected error (a bug the API must contain)."""

    version = "broken"

    def ask(self, *args, **kwargs):
        raise RuntimeError("index file vanished")


class BreaksMidway:
    """The real engine whose stream fails after the first delta (a crash the API must contain)."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.version = engine.version

    def stream(self, question, history=(), mode="auto", top_k=None):
        from rag.types import Delta

        for event in self._engine.stream(question, history, mode=mode, top_k=top_k):
            yield event
            if isinstance(event, Delta):
                raise RuntimeError("index file vanished")
