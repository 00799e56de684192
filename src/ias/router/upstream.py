"""Opening a request to a backend, with failover before the first byte.

A connection error, a timeout before the response starts, or a 5xx answer marks the backend
failed and tries another one (up to `MAX_ATTEMPTS` in all). Once a response with status < 500
has started, it is the answer: nothing is retried after bytes may have reached the client.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

import aiohttp

from ias.errors import UpstreamError, UpstreamTimeout
from ias.kit.tracing import current_traceparent
from ias.router import metrics
from ias.router.balancer import BackendState, pick
from ias.router.catalog import Route

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    first_token: float
    between_chunks: float
    total: float


@dataclass(slots=True)
class Opened:
    response: aiohttp.ClientResponse
    backend: BackendState


def _headers(backend: BackendState, request_id: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if backend.api_key:
        headers["authorization"] = f"Bearer {backend.api_key}"
    if request_id:
        headers["x-request-id"] = request_id
    traceparent = current_traceparent()  # the backend's work joins the request's trace
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


async def open_upstream(
    session: aiohttp.ClientSession,
    route: Route,
    endpoint: str,
    body: bytes,
    *,
    timeouts: Timeouts,
    rng: random.Random,
    request_id: str | None,
) -> Opened:
    tried: set[uuid.UUID] = set()
    last_error: Exception | None = None
    # Connecting, and every socket read until the caller takes over with its own per-chunk
    # and total deadlines (tighter ones, for streams).
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=timeouts.connect, sock_read=timeouts.first_token
    )
    failed: BackendState | None = None
    for _ in range(MAX_ATTEMPTS):
        backend = pick(route.backends, tried, rng)
        if backend is None:
            break
        if failed is not None:
            metrics.upstream_retry(failed.id)
        tried.add(backend.id)
        backend.outstanding += 1
        try:
            response = await session.post(
                f"{backend.url}/{endpoint}",
                data=body,
                headers=_headers(backend, request_id),
                timeout=timeout,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            backend.outstanding -= 1
            backend.failed(time.monotonic())
            metrics.upstream_error(
                backend.id, "timeout" if isinstance(exc, TimeoutError) else "connect"
            )
            last_error, failed = exc, backend
            continue
        if response.status >= 500:
            backend.outstanding -= 1
            backend.failed(time.monotonic())
            metrics.upstream_error(backend.id, "status_5xx")
            last_error, failed = UpstreamError(f"status {response.status}"), backend
            response.release()
            continue
        if response.status >= 400:
            metrics.upstream_error(backend.id, "status_4xx")
        return Opened(response, backend)
    raise _no_backend(route, last_error)


def _no_backend(route: Route, error: Exception | None) -> Exception:
    if not route.backends:
        return UpstreamError(
            f"The model '{route.name}' has no backend serving it right now.", code="no_backend"
        )
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeout(
            f"The backends for '{route.name}' did not answer in time; retry shortly."
        )
    return UpstreamError(
        f"The backends for '{route.name}' failed to answer; retry shortly.", code="backend_error"
    )
