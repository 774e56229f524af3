"""The index follower of a server process (api/switching.follow_index) against a stand-in switch:
a version that fails to load — a damaged one, or one whose Milvus server is not up yet — is tried
again after RETRY_SECONDS, not every period and not never."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import anyio

from api import switching


def test_a_version_that_failed_to_load_is_tried_again_after_the_retry_delay(tmp_path, monkeypatch):
    (tmp_path / "CURRENT").write_text("v2\n", encoding="utf-8")
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(index_dir=tmp_path), engine=None,
                                                load_error=None))
    attempts: list[float] = []

    async def switch(app_):
        attempts.append(anyio.current_time())
        if len(attempts) == 1:
            raise ConnectionError("the Milvus server is not up yet")  # stands for any backend error
        app_.state.engine = SimpleNamespace(version="v2")
        return app_.state.engine, None

    monkeypatch.setattr(switching, "switch_to_newest", switch)
    monkeypatch.setattr(switching, "RETRY_SECONDS", 0.3)

    async def main():
        with anyio.move_on_after(1.0):
            await switching.follow_index(app, 0.02)  # type: ignore[arg-type]

    # In a thread of its own: a browser test's sync Playwright leaves an event loop running in the
    # main thread, and a second one cannot start there.
    runner = threading.Thread(target=anyio.run, args=(main,))
    runner.start()
    runner.join(10)
    # One failure, then nothing for 0.3 s (not 15 tries at the 0.02 s period), then the retry
    # that served v2, and no switch after that.
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.3
    assert app.state.engine.version == "v2"
