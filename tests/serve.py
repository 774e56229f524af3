"""Run an ASGI app with a real uvicorn server on a free 127.0.0.1 port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
