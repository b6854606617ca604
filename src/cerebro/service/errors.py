"""Every error is `{"error": {"code", "message", "field"}}` – never a stack trace.

`ApiError` is what the routes raise; request validation, unknown routes, user input errors
from the analysis layer and unexpected exceptions are translated here, in one place.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cerebro.core.errors import UserInputError

log = logging.getLogger("cerebro.service")

CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """A refusal with its HTTP status, a stable code and one sentence."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def not_found(what: str) -> ApiError:
    """The same answer for a missing object and another organisation's: its existence is not
    revealed."""
    return ApiError(404, "not_found", f"no {what} with this id.")


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str | None:
    # the first element says where (body, query…); a field may itself be called "body"
    where = 1 if loc and loc[0] in ("body", "query", "path", "header", "form", "cookie") else 0
    return ".".join(str(p) for p in loc[where:]) or None


def _validation_message(error: dict[str, Any]) -> str:
    field = _field(tuple(error.get("loc", ())))
    message = str(error.get("msg", "invalid value")).rstrip(".")
    return f"{field}: {message}." if field else f"{message}."


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        return error_response(err.status, err.code, err.message, err.field)

    @app.exception_handler(UserInputError)
    async def _user_error(_request: Request, err: UserInputError) -> JSONResponse:
        return error_response(422, "invalid_input", str(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        return error_response(
            422, "invalid", _validation_message(first), _field(tuple(first.get("loc", ())))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(err.status_code, "error")
        message = err.detail if isinstance(err.detail, str) else code
        if err.status_code == 404 and message == "Not Found":
            message = "no such route."
        return error_response(err.status_code, code, message)

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, _err: DataError) -> JSONResponse:
        # the database refused a value the request's schema allows (PostgreSQL stores no NUL
        # character in text, and integers are bounded): the request's fault, not the server's
        return error_response(
            422,
            "invalid",
            "a value cannot be stored (a NUL character in text, or a number out "
            "of range); correct the request's values.",
        )

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, _err: IntegrityError) -> JSONResponse:
        return error_response(409, "conflict", "the request conflicts with an existing object.")

    @app.exception_handler(OperationalError)
    async def _unavailable(_request: Request, err: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", str(err)[:300])
        return error_response(503, "unavailable", "the database does not answer; retry shortly.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        return error_response(
            500, "internal", f"internal error; the server log names it as {reference}."
        )
