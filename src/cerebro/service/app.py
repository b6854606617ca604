"""The FastAPI application: the routers, the JSON errors, the request size limits."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cerebro.core.version import __version__
from cerebro.service import (
    analyses,
    audit,
    causal,
    datasets,
    designer,
    discover,
    errors,
    experiments,
    insights,
    kinds,
    knowledge,
    marketing,
    surfacing,
    ui,
    users,
)
from cerebro.service.callers import Callers, forget_on_auth_changes
from cerebro.service.config import Settings
from cerebro.service.db import make_engine, session_factory
from cerebro.service.errors import error_body, error_response

UPLOAD_PATHS = ("/api/v1/datasets",)
ROUTERS = (
    datasets.router,
    experiments.router,
    analyses.router,
    causal.router,
    marketing.router,
    audit.router,
    users.router,
    knowledge.router,
    insights.router,  # the intelligence routes (issue 21)
    discover.router,
    surfacing.router,
    designer.router,
    kinds.router,
)


class BodyLimit:
    """Refuse a request body past its limit with 413 – by Content-Length before reading, and by
    counting while it streams (a chunked upload has no length) – so no route ever holds an
    oversized body. Uploads get the upload limit, every other route the JSON limit."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["path"] in UPLOAD_PATHS
        limit = (
            self.settings.max_upload_bytes + 64 * 1024 if upload else self.settings.max_body_bytes
        )
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._refuse(send, limit)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # FastAPI passes an HTTPException from the body through
                raise HTTPException(413, f"the request body exceeds the limit of {limit} bytes.")
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _refuse(send: Any, limit: int) -> None:
        import json

        body = json.dumps(
            error_body("too_large", f"the request body exceeds the limit of {limit} bytes.")
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The API over `settings.db_url` (migrated beforehand: `cerebro serve` and
    `cerebro admin migrate` do it)."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.db_url)
    app = FastAPI(
        title="Cerebro",
        version=__version__,
        description="Datasets, an experiment registry and causal analyses as jobs, per "
        "organisation, with roles and an audit log. Errors are "
        '`{"error": {"code", "message", "field"}}`.',
    )
    app.state.settings, app.state.engine = settings, engine
    app.state.sessions = session_factory(engine)
    app.state.callers = Callers(settings.caller_cache_seconds)
    forget_on_auth_changes(app.state.sessions, app.state.callers)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    if settings.cors_origins:  # off unless asked for
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["*"], allow_headers=["*"])  # fmt: skip
    app.add_middleware(BodyLimit, settings=settings)
    ui.mount(app)  # the dashboard at / (service/static)

    @app.get("/health", tags=["health"], summary="Liveness and database reachability")
    def health() -> Any:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return error_response(503, "unavailable", "the database does not answer.")
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    return app
