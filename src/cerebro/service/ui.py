"""The web dashboard: static files (HTML, ES modules, CSS in `service/static/`, package data)
served at `/` and `/static/…` by the same app as the API, with no build step.

The pages call only the JSON routes under /api/v1 with the token the user pastes at sign-in,
so they need no session of their own and hold no secret. Every page response carries a strict
Content-Security-Policy: scripts, styles and connections from this origin only (no inline
script or style, nothing fetched from elsewhere), images also from `blob:` (a result's plot is
fetched with the token and shown from memory), and no framing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from cerebro.service.errors import ApiError

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # small files that change with the package: revalidate rather than serve a stale module
    "Cache-Control": "no-cache",
}


def asset(name: str) -> FileResponse:
    """The static file `name` (inside the static folder, of a known type), else a 404."""
    root = STATIC.resolve()
    path = (root / name).resolve()
    media_type = MEDIA_TYPES.get(path.suffix)
    if media_type is None or not path.is_relative_to(root) or not path.is_file():
        raise ApiError(404, "not_found", f"no dashboard file {name!r}.")
    return FileResponse(path, media_type=media_type, headers=HEADERS)


def mount(app: FastAPI) -> None:
    """Serve the dashboard at `/` and its files at `/static/…` (not in the OpenAPI document:
    they are pages, not API)."""

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def dashboard() -> FileResponse:
        return asset("index.html")

    @app.api_route("/static/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def static_file(name: str) -> FileResponse:
        return asset(name)
