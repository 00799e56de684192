"""One inference request, from the key check to the usage event.

Order matters: key, body, model and backend are settled — and for streams the first event has
arrived — before any response header is sent, so every failure up to then is a clean HTTP
error (or a retry on another backend). From admission on, exactly one usage event is emitted,
in a `finally`, whatever happens: success, backend failure, client gone, or a bug.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp

from ias.body_limit import ClientGone, header, read_body
from ias.contracts.keys import KeyRecord
from ias.errors import (
    IASError,
    InternalError,
    NotFound,
    Unavailable,
    UpstreamError,
)
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.limits.headers import rate_limit_headers, refusal
from ias.limits.types import Decision, Ticket
from ias.router import metrics
from ias.router.admission import admission_for
from ias.router.catalog import Route
from ias.router.relay import (
    STREAM_ERROR,
    ClientStalled,
    ModelRename,
    StreamRelay,
    error_event,
    relay_whole,
    stream_failure,
)
from ias.router.request import InferenceRequest, check_context, parse_request, upstream_body
from ias.router.state import RouterState
from ias.router.upstream import open_upstream
from ias.router.usage import Meter, annotate_span

logger = logging.getLogger("ias.router")
Scope = dict[str, Any]


def route_for(state: RouterState, key: KeyRecord, request: InferenceRequest) -> Route:
    route = state.catalog.get(request.model)
    if route is None or not key.allows(request.model) or not route.serves(request.endpoint):
        # One answer for "no such model" and "not yours": names are not probed.
        raise NotFound(
            f"The model '{request.model}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    check_context(request, route.context_length)
    return route


async def handle_inference(
    state: RouterState, scope: Scope, receive: Any, send: Any, endpoint: str
) -> None:
    started = time.perf_counter()
    model, status = metrics.UNKNOWN_MODEL, InternalError.status
    try:
        key = await state.keys.resolve(header(scope, b"authorization"))
        raw = await read_body(
            receive,
            state.max_body_bytes,
            state.body_read_seconds,
            header(scope, b"content-length"),
        )
        request = parse_request(raw, endpoint)
        route = route_for(state, key, request)
        model = route.name
        status = await _admit_and_serve(state, receive, send, key, request, route, raw)
    except IASError as error:
        status = error.status
        raise
    except ClientGone:
        status = metrics.CLIENT_CLOSED
        raise
    finally:
        metrics.observe_request(model, endpoint, status, time.perf_counter() - started)


async def _admit_and_serve(
    state: RouterState,
    receive: Any,
    send: Any,
    key: KeyRecord,
    request: InferenceRequest,
    route: Route,
    raw: bytes,
) -> int:
    """Admit the request and serve it; returns the HTTP status the client was sent."""
    body = upstream_body(request, route.upstream_model, state.cache_salt(key.org_id))
    state.last_used.touch(key.key_id)
    meter = Meter(uuid7(), utcnow(), request.endpoint, request.stream)
    decision, ticket = await _admit(state, key, request, route, len(raw), str(meter.event_id))
    headers = [(k.encode(), v.encode()) for k, v in rate_limit_headers(decision).items()]
    state.sink.begin(meter.interrupted(key, route))
    try:  # admitted: from here on, exactly one usage event and one settlement
        return await _serve(state, receive, send, request, route, meter, body, headers)
    finally:
        event = meter.event(key, route)
        state.sink.submit(event)
        annotate_span(event)
        metrics.count_tokens(route.name, event.prompt_tokens, event.completion_tokens)
        if request.stream and meter.first_token_at is not None:
            metrics.observe_ttft(route.name, meter.first_token_at - meter.started)
        await state.limiter.settle(
            ticket,
            tokens=event.prompt_tokens + event.completion_tokens,
            cost_micros=event.cost_micros,
        )


async def _admit(
    state: RouterState,
    key: KeyRecord,
    request: InferenceRequest,
    route: Route,
    body_bytes: int,
    lease_id: str,
) -> tuple[Decision, Ticket]:
    """The limiter's admission, or the refusal it becomes (each refusal counted by reason)."""
    try:
        state.sink.check_room()  # before any limit is counted: a refused request costs nothing
    except Unavailable:
        metrics.count_refusal("store_unavailable")
        raise
    try:
        limits = state.limits(key, route.name)
    except IASError:
        metrics.count_refusal("limit_zero")
        raise
    admission = admission_for(lease_id, limits, request, route, body_bytes)
    try:
        decision = await state.limiter.admit(admission)
    except Unavailable:
        metrics.count_refusal("store_unavailable")
        raise
    if not decision.admitted or decision.ticket is None:
        if decision.refused_by is not None:
            metrics.count_refusal(decision.refused_by.kind.value)
        raise refusal(decision)
    return decision, decision.ticket


async def _serve(
    state: RouterState,
    receive: Any,
    send: Any,
    request: InferenceRequest,
    route: Route,
    meter: Meter,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> int:
    relay = asyncio.ensure_future(_proxy(state, send, request, route, meter, body, headers))
    watcher = asyncio.ensure_future(_stop_when_client_leaves(receive, relay, meter))
    try:
        return await relay
    except asyncio.CancelledError:
        if not meter.partial:
            raise  # cancelled from outside (shutdown), not because the client left
        return metrics.CLIENT_CLOSED
    except ClientStalled:
        return metrics.CLIENT_CLOSED
    except IASError as error:
        meter.failed(error.status, error.type)
        raise
    except Exception:
        meter.failed(500, InternalError.type)
        raise
    finally:
        watcher.cancel()


async def _stop_when_client_leaves(receive: Any, relay: asyncio.Future[int], meter: Meter) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    if not relay.done():
        meter.partial = True  # the client went away: stop the backend at once
        relay.cancel()


async def _proxy(
    state: RouterState,
    send: Any,
    request: InferenceRequest,
    route: Route,
    meter: Meter,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> int:
    """Relay the backend's answer; returns the HTTP status the client was sent."""
    opened = await open_upstream(
        state.http(),
        route,
        request.endpoint,
        body,
        timeouts=state.timeouts,
        rng=state.rng,
        # The engine logs the request under the usage event's id: the two can be matched.
        request_id=str(meter.event_id),
    )
    backend, response = opened.backend, opened.response
    meter.backend_id = backend.id
    rename = ModelRename(route.upstream_model, route.name)
    try:
        if request.stream and response.status == 200:
            await _stream(state, send, request, response, meter, rename, headers)
        else:
            try:
                await relay_whole(response, send, meter, rename, state.timeouts.total, headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                metrics.upstream_error(backend.id, _broken(exc))
                raise
        backend.succeeded()
    finally:
        backend.outstanding -= 1
        response.close()
    return response.status


def _broken(exc: BaseException) -> str:
    """The upstream error reason for an answer that failed after it started."""
    return "timeout" if isinstance(exc, TimeoutError) else "stream_broken"


async def _stream(
    state: RouterState,
    send: Any,
    request: InferenceRequest,
    response: aiohttp.ClientResponse,
    meter: Meter,
    rename: ModelRename,
    headers: list[tuple[bytes, bytes]],
) -> None:
    relay = StreamRelay(
        request, response, send, meter, rename, state.timeouts.between_chunks, headers
    )
    try:
        async with asyncio.timeout(state.timeouts.total):
            first = await relay.next_event(state.timeouts.first_token)
            if not first:
                raise UpstreamError("The backend ended the stream without sending anything.")
            await relay.start()
            await relay.run(first)
    except asyncio.CancelledError:
        if meter.partial:  # the client left: bill what the engine had already handed over
            await relay.drain_after_client_left()
        raise
    except ClientStalled:
        # As good as gone: bill what the engine sent, free it, and leave the connection to
        # the server to close (nothing more can be written to it).
        meter.partial = True
        logger.info("the client stopped reading a stream; it was cut off")
        await relay.drain_after_client_left()
        raise
    except (IASError, aiohttp.ClientError, TimeoutError) as exc:
        _count_broken_stream(meter, exc)
        error = stream_failure(exc)
        if not relay.started:
            raise error from None
        meter.failed(error.status, error.type)
        meter.partial = True
        logger.warning("stream from backend failed after it started: %s", error.message)
        await relay.emit(error_event(error))
        await send({"type": "http.response.body", "body": b""})
    else:
        if meter.error_type == STREAM_ERROR:  # an error event, then the end of the stream
            _count_broken_stream(meter, None)


def _count_broken_stream(meter: Meter, exc: BaseException | None) -> None:
    """One upstream error per broken stream, whether it sent an error event, broke, or both."""
    if meter.backend_id is None:
        return
    if exc is None or meter.error_type == STREAM_ERROR:
        metrics.upstream_error(meter.backend_id, "stream_broken")
    else:
        metrics.upstream_error(meter.backend_id, _broken(exc))
