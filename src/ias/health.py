"""`/health`, `/ready` and `/metrics`: the endpoints every IAS process serves.

`/health` says the process is alive and never touches a dependency, so an orchestrator does
not restart a healthy process because its database blinked. `/ready` checks every store the
process needs and answers 503, naming the failing ones, until they all answer. `/metrics`
serves the default registry, or, when the server runs several worker processes, what all of
them wrote to the shared metrics directory (whichever worker the scrape reaches).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

logger = logging.getLogger("ias.health")

READY_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    name: str
    probe: Callable[[], Awaitable[None]]


async def _run(check: ReadinessCheck) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(check.probe(), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return check.name, "timed out"
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness check %s failed: %s", check.name, type(exc).__name__)
        return check.name, f"unreachable ({type(exc).__name__})"
    return check.name, None


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def metrics_registry(multiprocess_dir: Path | None) -> CollectorRegistry:
    if multiprocess_dir is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    return registry


def health_routes(
    process: str, checks: list[ReadinessCheck], *, metrics_dir: Path | None = None
) -> list[Route]:
    """`metrics_dir`: the shared directory of a multi-process server (see `ias.server`)."""
    registry = metrics_registry(metrics_dir)

    async def health(_: Request) -> Response:
        return _json({"status": "ok", "process": process})

    async def ready(_: Request) -> Response:
        results = await asyncio.gather(*(_run(check) for check in checks))
        failures = {name: problem for name, problem in results if problem is not None}
        body = {
            "status": "unavailable" if failures else "ready",
            "checks": {name: problem or "ok" for name, problem in results},
        }
        return _json(body, 503 if failures else 200)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
