"""The engine's pure-ASGI application and its factory, `create_engine_app(config)`.

Routes (vLLM's, plus the test hooks under `/mock`):

    GET  /health                 200, empty body
    GET  /ready                  200 {"status": "ready", "checks": {}}, as every IAS process
    GET  /metrics                Prometheus text, vLLM's metric names
    GET  /v1/models              the configured models
    GET  /v1/models/{id}         one model, or 404
    POST /v1/chat/completions    chat models
    POST /v1/completions         chat and completion models
    POST /v1/embeddings          embedding models
    GET  /mock/log               the token log as JSON (`?request_id=` filters it)
    DELETE /mock/log             clears the token log

Pure ASGI with a dictionary of routes rather than a framework router: the engine stands in for a
GPU server in router benchmarks, so its own cost per request must stay in the tens of
microseconds. `app.state` carries `config`, `token_log` and `metrics`, as a Starlette app would.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import partial
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from ias.engine.asgi import Headers, read_json_object, send_error, send_whole
from ias.engine.catalog import CHAT, COMPLETIONS, EMBEDDINGS, Catalog
from ias.engine.chat import build_chat_job
from ias.engine.completions import build_completion_job
from ias.engine.config import EngineConfig
from ias.engine.embeddings import build_embedding_job
from ias.engine.errors import EngineError
from ias.engine.fields import Json
from ias.engine.gate import Gate
from ias.engine.job import Job
from ias.engine.metrics import CONTENT_TYPE, EngineMetrics
from ias.engine.serving import Runner
from ias.engine.tokenlog import TokenLog
from ias.kit.requestid import incoming_request_id, incoming_traceparent

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
JobBuilder = Callable[[Json, str, EngineConfig, Catalog], Job]

_MODELS_PREFIX = "/v1/models/"
_TEXT = b"text/plain; charset=utf-8"
_READY = b'{"status":"ready","checks":{}}'


def _route_path(scope: Scope) -> str:
    """The path below the mount point, so the engine also works mounted under a prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _request_id(scope: Scope) -> str:
    """The caller's id (from `RequestIdMiddleware` when mounted behind it, else the header),
    or a fresh one."""
    given = scope.get("state", {}).get("request_id") or incoming_request_id(scope)
    return str(given) if given else os.urandom(16).hex()


def _request_headers(request_id: str) -> Headers:
    return [(b"x-request-id", request_id.encode())]


class EngineApp:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.catalog = Catalog(config)
        self.token_log = TokenLog(config.token_log_size)
        self.metrics = EngineMetrics([model.name for model in config.models])
        self._runner = Runner(Gate(config.max_concurrency), self.metrics)
        self.state = State({"config": config, "token_log": self.token_log, "metrics": self.metrics})
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "/health"): self._health,
            ("GET", "/ready"): self._ready,
            ("GET", "/metrics"): self._metrics,
            ("GET", "/v1/models"): self._models,
            ("POST", CHAT): partial(self._generate, build_chat_job, CHAT),
            ("POST", COMPLETIONS): partial(self._generate, build_completion_job, COMPLETIONS),
            ("POST", EMBEDDINGS): partial(self._generate, build_embedding_job, EMBEDDINGS),
            ("GET", "/mock/log"): self._log,
            ("DELETE", "/mock/log"): self._clear_log,
        }
        self._paths = {path for _, path in self._routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._dispatch(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
        else:
            await send({"type": "websocket.close", "code": 1000})

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _route_path(scope)
        handler = self._routes.get((scope["method"], path))
        if handler is not None:
            await handler(scope, receive, send)
        elif scope["method"] == "GET" and path.startswith(_MODELS_PREFIX):
            await self._model(path[len(_MODELS_PREFIX) :], send)
        elif path in self._paths:
            await send_error(send, EngineError(405, "Method Not Allowed"), [])
        else:
            await send_error(send, EngineError(404, "Not Found"), [])

    async def _generate(
        self, build: JobBuilder, endpoint: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request_id = _request_id(scope)
        headers = _request_headers(request_id)
        trace = incoming_traceparent(scope)
        traceparent = trace.traceparent if trace else None
        model = ""
        try:
            body = await read_json_object(receive)
            named = body.get("model")
            model = named if isinstance(named, str) else ""
            job = build(body, request_id, self.config, self.catalog)
        except EngineError as error:
            self.token_log.failed(request_id, model, endpoint, error.status, traceparent)
            await send_error(send, error, headers)
            return
        record = self.token_log.start(
            request_id,
            job.model,
            endpoint,
            stream=job.stream is not None,
            prompt_tokens=job.prompt_tokens,
            traceparent=traceparent,
        )
        await self._runner.run(job, record, receive, send, headers)

    async def _health(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_whole(send, 200, b"", [], _TEXT)

    async def _ready(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The engine depends on no store, so it is ready as soon as it is alive.
        await send_whole(send, 200, _READY, [])

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_whole(send, 200, self.metrics.render(), [], CONTENT_TYPE)

    async def _models(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_whole(send, 200, self.catalog.list_body, [])

    async def _model(self, name: str, send: Send) -> None:
        try:
            await send_whole(send, 200, self.catalog.card_body(name), [])
        except EngineError as error:
            await send_error(send, error, [])

    async def _log(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        request_id = query.get("request_id", [None])[0]
        await send_whole(send, 200, self.token_log.to_json(request_id), [])

    async def _clear_log(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_whole(send, 200, orjson.dumps({"cleared": self.token_log.clear()}), [])


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to start or stop: the engine holds no connections.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_engine_app(config: EngineConfig) -> EngineApp:
    """A new engine; `app.token_log` (also `app.state.token_log`) is its per-request oracle."""
    return EngineApp(config)
