"""Static pages: the embeddable ``/widget.js``, the Chinese demo page ``/`` and the admin page ``/admin``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Folder holding ``widget.js`` and ``index.html`` (served as files, no build step)."""

router = APIRouter(tags=["widget"])

# Short caching: hosts embed the script by URL, so a deploy must reach them within minutes.
_CACHE = "public, max-age=300"


@router.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
def widget_js() -> FileResponse:
    """Serve the self-contained chat widget script."""
    return FileResponse(
        STATIC_DIR / "widget.js",
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
