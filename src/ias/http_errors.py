"""Renders every error as OpenAI's envelope, for the Starlette and FastAPI apps alike.

Handlers are registered once here. Exceptions nobody expected become a 500 that carries the
request id; they are logged exactly once, with the traceback, by `UnhandledErrorMiddleware`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ias.errors import IASError, InvalidRequest, NotFound, PayloadTooLarge, internal_error

logger = logging.getLogger("ias.errors")

JSON = "application/json"


def error_response(error: IASError) -> Response:
    return Response(error.body(), status_code=error.status, media_type=JSON, headers=error.headers)


def _from_http_exception(exc: HTTPException) -> IASError:
    if exc.status_code == 404:
        return NotFound(str(exc.detail) if exc.detail != "Not Found" else "Unknown path.")
    if exc.status_code == 413:
        return PayloadTooLarge(str(exc.detail))
    error = InvalidRequest(str(exc.detail), code="http_error")
    error.status = exc.status_code  # type: ignore[misc]  # keep Starlette's 405/415 as they are
    return error


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _from_validation_error(exc: RequestValidationError) -> IASError:
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "Invalid request."}
    if first.get("type") == "json_invalid":
        # Its location is a character position in the body, not a field.
        position = first.get("loc", ("body", "?"))[-1]
        return InvalidRequest(
            f"The request body is not valid JSON ({first.get('msg', 'invalid')} at position "
            f"{position}).",
            code="invalid_json",
        )
    param = _location(tuple(first.get("loc", ())))
    message = f"{param}: {first.get('msg', 'invalid value')}"
    extra = len(exc.errors()) - 1
    if extra > 0:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return InvalidRequest(message, param=param, code="invalid_value")


async def _handle_ias_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IASError)
    return error_response(exc)


async def _handle_http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(_from_http_exception(exc))


async def _handle_validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(_from_validation_error(exc))


def install_error_handlers(app: Starlette) -> None:
    app.add_exception_handler(IASError, _handle_ias_error)
    app.add_exception_handler(HTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 envelope instead of a traceback on the wire.

    Sits inside `RequestIdMiddleware` so the message and the log line name the request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error serving %s %s", scope["method"], scope["path"])
            if started:
                # Headers are gone; the only honest signal left is closing the connection.
                return
            error = internal_error()
            await send(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [(b"content-type", JSON.encode())],
                }
            )
            await send({"type": "http.response.body", "body": error.body()})
