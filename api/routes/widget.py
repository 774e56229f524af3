"""Static pages: the embeddable ``/widget.js``, the Chinese demo page ``/`` and the admin page ``/admin``."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Folder holding ``widget.js`` and ``index.html`` (served as files, no build step)."""

router = APIRouter(tags=["widget"])

# Short caching: hosts embed the script by URL, so a deploy must reach them within minutes.
_CACHE = "public, max-age=300"


# The limits the widget keeps to, written into the script from the settings: one source for both.
_LIMITS = re.compile(r"/\*server-limits\*/.*?/\*end-server-limits\*/")


@cache
def _widget_source() -> str:
    return (STATIC_DIR / "widget.js").read_text(encoding="utf-8")


@cache
def widget_script(max_question_chars: int, max_history_messages: int) -> bytes:
    """``widget.js`` with the server's limits in place of its defaults."""
    limits = json.dumps({"max_question_chars": max_question_chars, "max_history_messages": max_history_messages})
    source, count = _LIMITS.subn(lambda _: f"/*server-limits*/{limits}/*end-server-limits*/", _widget_source())
    assert count == 1, "widget.js lost its server-limits marker"
    return source.encode("utf-8")


@router.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
def widget_js(settings: SettingsDep) -> Response:
    """Serve the self-contained chat widget script, with this server's limits."""
    return Response(
        widget_script(settings.max_question_chars, settings.max_history_messages),
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": _CACHE,
            # Pages that set Cross-Origin-Embedder-Policy may still load the script from us.
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def demo_page() -> FileResponse:
    """Serve the Chinese demo page with the widget embedded."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"},
    )


@router.api_route("/admin", methods=["GET", "HEAD"], include_in_schema=False)
def admin_page() -> FileResponse:
    """Serve the Chinese admin page (it signs in with the admin token and calls /api/admin/*)."""
    return FileResponse(
        STATIC_DIR / "admin.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                 "Referrer-Policy": "no-referrer"},
    )
