"""The server's own memory: glibc malloc set up for many request threads, freed pages handed back.

Measured with bench/memory_burst.py (50 concurrent ~1000-character questions): with glibc's
defaults every request thread gets its own heap arena and the dynamic mmap threshold moves the
encoder's activation buffers (a few MB each) into those heaps, so a burst left the server 1.2 GB
larger for good. Two arenas, a fixed mmap threshold and a ``malloc_trim`` after growth bring it
back near its resting level.
"""

from __future__ import annotations

import ctypes
import logging
import os

import anyio

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 256 * 1024  # larger blocks are mmapped and so returned to the system when freed
ARENAS = 2  # one per core: more only hold freed memory that no other thread reuses
TRIM_AFTER_GROWTH = 32 * 1024 * 1024  # RSS above the resting level (bytes) that calls for a trim


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc has both; musl and macOS do not
    except (OSError, AttributeError):
        return None
    return libc


def tune_malloc() -> None:
    """Few arenas and a fixed mmap threshold; a no-op outside glibc. Call before request threads start."""
    libc = _glibc()
    if libc is None:
        return
    libc.mallopt(_M_ARENA_MAX, ARENAS)
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def release_memory(period: float = 10.0) -> None:
    """Every ``period`` seconds, hand freed heap pages back to the system when RSS is well above the
    lowest level seen after a trim (``malloc_trim`` takes a few ms; an idle server at its resting
    level never calls it). Runs until cancelled."""
    libc = _glibc()
    if libc is None:
        return
    floor = rss_bytes()
    while True:
        await anyio.sleep(period)
        if rss_bytes() - floor < TRIM_AFTER_GROWTH:
            continue
        await anyio.to_thread.run_sync(libc.malloc_trim, 0)
        floor = min(floor, rss_bytes())
