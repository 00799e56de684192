"""The data plane's ASGI app: OpenAI's `/v1` routes, dispatched by hand.

Plain ASGI rather than a framework router: the hot path is a dict lookup and a function call.
Errors before the response starts are rendered as OpenAI's envelope with OpenAI's statuses.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ias.body_limit import ClientGone, header
from ias.errors import IASError, InvalidRequest, NotFound, internal_error
from ias.router.catalog import Route
from ias.router.handler import handle_inference
from ias.router.state import RouterState

logger = logging.getLogger("ias.router")
JSON_HEADERS = [(b"content-type", b"application/json")]

INFERENCE = {
    "/v1/chat/completions": "chat/completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}


async def respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_error(send: Any, error: IASError) -> None:
    headers = JSON_HEADERS + [(k.encode(), v.encode()) for k, v in error.headers.items()]
    await respond(send, error.status, error.body(), headers)


class RouterApp:
    def __init__(self, state: RouterState) -> None:
        self.state = state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.dispatch(scope, receive, tracking_send)
        except ClientGone:
            return
        except IASError as error:
            if not started:
                await respond_error(send, error)
        except Exception:
            logger.exception("unhandled error serving %s", scope["path"])
            if not started:
                await respond_error(send, internal_error())

    async def dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        endpoint = INFERENCE.get(path)
        if endpoint is not None:
            if method != "POST":
                raise _wrong_method(method, path)
            await handle_inference(self.state, scope, receive, send, endpoint)
        elif path == "/v1/models":
            await self.list_models(scope, send)
        elif path.startswith("/v1/models/"):
            await self.get_model(scope, send, path.removeprefix("/v1/models/"))
        else:
            raise NotFound(f"Unknown path {path}: this is an OpenAI-compatible /v1 API.")

    async def list_models(self, scope: Any, send: Any) -> None:
        key = await self.state.keys.resolve(header(scope, b"authorization"))
        data = [_model(route) for route in self.state.catalog.routes() if key.allows(route.name)]
        body = orjson.dumps({"object": "list", "data": data})
        await respond(send, 200, body, JSON_HEADERS)

    async def get_model(self, scope: Any, send: Any, name: str) -> None:
        key = await self.state.keys.resolve(header(scope, b"authorization"))
        route = self.state.catalog.get(name)
        if route is None or not key.allows(name):
            raise NotFound(
                f"The model '{name}' does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        await respond(send, 200, orjson.dumps(_model(route)), JSON_HEADERS)


def _model(route: Route) -> dict[str, Any]:
    return {"id": route.name, "object": "model", "created": route.created, "owned_by": "ias"}


def _wrong_method(method: str, path: str) -> IASError:
    error = InvalidRequest(
        f"{method} is not allowed on {path}; use POST.", code="method_not_allowed"
    )
    error.status = 405  # type: ignore[misc]
    return error
