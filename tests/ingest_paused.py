"""Run `rag ingest` (the real CLI) with a pause injected at one point, so a test can SIGKILL it there.

    python tests/ingest_paused.py <module:qualname> <marker file> <rag ingest arguments…>

When the named function is first called, the marker file is created and the process sleeps;
the test kills it with SIGKILL while it waits. "none" runs the ingest unchanged.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from pathlib import Path


def pause_at(target: str, marker: Path) -> None:
    module_name, _, qualname = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = qualname.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def paused(*args, **kwargs):
        marker.touch()
        time.sleep(600)  # killed long before this ends
        return original(*args, **kwargs)

    setattr(owner, name, paused)


if __name__ == "__main__":
    target, marker, *argv = sys.argv[1:]
    if target != "none":
        pause_at(target, Path(marker))
    from cli.main import main

    sys.exit(main(["ingest", *argv]))
