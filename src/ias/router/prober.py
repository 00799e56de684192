"""Active health probing: every backend's `/health` is asked on a fixed period.

A backend that does not answer 200 in time is skipped by the balancer until it does again;
passive ejection (consecutive request failures) works alongside and needs no probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

from ias.router.balancer import BackendState

logger = logging.getLogger("ias.router.prober")
PROBE_TIMEOUT_SECONDS = 2.0


def health_url(base_url: str) -> str:
    # vLLM serves /health beside /v1, not under it.
    return base_url.removesuffix("/v1") + "/health"


class Prober:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        backends: Callable[[], list[BackendState]],
        *,
        interval_seconds: float,
        on_probed: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self._backends = backends
        self._interval = interval_seconds
        self._on_probed = on_probed  # after every round: publishes the verdicts (metrics)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._probe_forever(), name="backend-prober")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(backend) for backend in self._backends()))
        if self._on_probed is not None:
            self._on_probed()

    async def _probe(self, backend: BackendState) -> None:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
        try:
            async with self._session.get(health_url(backend.url), timeout=timeout) as response:
                healthy = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            healthy = False
        if healthy != backend.probe_ok:
            logger.warning("backend %s is %s", backend.id, "healthy" if healthy else "unhealthy")
        backend.probe_ok = healthy

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.probe_all()
