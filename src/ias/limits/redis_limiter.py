"""The Redis limiter: every router shares one set of counters, one Lua call per request.

`admit` is a single EVALSHA in the common case (EVAL once after a Redis restart forgets the
script). Only when a monthly counter is missing — a new month, or Redis lost its data — does
it ask the ledger (`baseline`), seed the counter with SET NX, and run the script again.

The limiter owns the client it is given and closes it; give it its own, built by
`redis_limiter_client`: one pipelined connection whose short timeout keeps a sick Redis from
stalling requests (see `resp`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

from ias.limits import scripts
from ias.limits.decisions import decide, unlimited
from ias.limits.periods import MONTH_KEY_SECONDS, WINDOW_SECONDS, month_of, month_start
from ias.limits.resp import NoScriptError, PipelinedRedis
from ias.limits.types import Admission, Baseline, Decision, Kind, Limit, Ticket

logger = logging.getLogger("ias.limits")

TIMEOUT_SECONDS = 0.05
_CODES = {
    Kind.REQUESTS: "rq",
    Kind.TOKENS: "tk",
    Kind.CONCURRENCY: "cc",
    Kind.MONTHLY_TOKENS: "mt",
    Kind.MONTHLY_MICROS: "mm",
}
_ADMITTED, _REFUSED, _NEEDS_BASELINE = 1, 0, 2


def redis_limiter_client(url: str, *, timeout_seconds: float = TIMEOUT_SECONDS) -> PipelinedRedis:
    """A client that fails fast: no retries; connecting and every reply bounded by the timeout."""
    return PipelinedRedis.from_url(url, timeout_seconds=timeout_seconds)


class _Script:
    """A script run by hash, sent whole only when the server does not know it yet."""

    def __init__(self, client: PipelinedRedis, source: str) -> None:
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, args: list[Any]) -> Any:
        try:
            return await self._client.execute("EVALSHA", self._sha, 0, *args)
        except NoScriptError:
            return await self._client.execute("EVAL", self._source, 0, *args)


class RedisLimiter:
    def __init__(
        self,
        client: PipelinedRedis,
        *,
        prefix: str = "ias:limits:",
        window_seconds: int = WINDOW_SECONDS,
        lease_ttl_seconds: float = 600.0,
        baseline: Baseline | None = None,
    ) -> None:
        if window_seconds < 1 or lease_ttl_seconds <= 0:
            raise ValueError("window_seconds must be ≥ 1 and lease_ttl_seconds > 0")
        self._client = client
        self._bases = {kind: f"{prefix}{code}:" for kind, code in _CODES.items()}
        self._window_seconds = window_seconds
        self._lease_ms = max(1, round(lease_ttl_seconds * 1000))
        self._baseline = baseline
        self._admit = _Script(client, scripts.ADMIT)
        self._settle = _Script(client, scripts.SETTLE)
        self._usage = _Script(client, scripts.USAGE)
        self._seeding: dict[tuple[str, str, tuple[Kind, ...]], asyncio.Task[None]] = {}

    def _base(self, limit: Limit) -> str:
        return f"{self._bases[limit.kind]}{limit.scope}:"

    async def admit(self, admission: Admission) -> Decision:
        limits = admission.limits
        if not limits:
            now = time.time()
            return unlimited(admission, now, self._window_seconds, month_of(now))
        args: list[Any] = [
            self._window_seconds,
            admission.lease_id,
            self._lease_ms,
            admission.tokens,
            admission.cost_micros,
            0 if self._baseline is None else 1,
        ]
        for limit in limits:
            kind = limit.kind
            args.append(f"{_CODES[kind]}{limit.limit}:{self._bases[kind]}{limit.scope}:")
        reply = await self._admit(args)
        if reply[0] == _NEEDS_BASELINE and self._baseline is not None:
            await self._seed(self._baseline, limits, str(reply[3]), reply[5:])
            args[5] = 0  # seeded; a month that turned meanwhile starts from zero
            reply = await self._admit(args)
        return decide(
            admission,
            reply[5:],
            refused=reply[4] - 1 if reply[0] == _REFUSED else None,
            now=reply[1] + reply[2] / 1_000_000,
            window=reply[1] // self._window_seconds,
            window_seconds=self._window_seconds,
            month=str(reply[3]),
        )

    async def _seed(
        self, baseline: Baseline, limits: tuple[Limit, ...], month: str, missing: list[int]
    ) -> None:
        by_scope: dict[str, list[Limit]] = {}
        for index in missing:
            limit = limits[index - 1]
            by_scope.setdefault(limit.scope, []).append(limit)
        for scope, scoped in by_scope.items():
            # Shielded: a caller that gives up (its time budget ran out) must not abandon the
            # seeding, or a ledger slower than that budget would keep the month missing forever.
            await asyncio.shield(self._seeding_task(baseline, scope, month, tuple(scoped)))

    def _seeding_task(
        self, baseline: Baseline, scope: str, month: str, limits: tuple[Limit, ...]
    ) -> asyncio.Task[None]:
        """One ledger read per scope and month, however many requests find it missing."""
        key = (scope, month, tuple(limit.kind for limit in limits))
        task = self._seeding.get(key)
        if task is None:
            task = asyncio.create_task(self._seed_scope(baseline, scope, month, limits))
            self._seeding[key] = task
            task.add_done_callback(lambda done: self._seeding_done(key, done))
        return task

    def _seeding_done(
        self, key: tuple[str, str, tuple[Kind, ...]], task: asyncio.Task[None]
    ) -> None:
        self._seeding.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            logger.warning(
                "could not read the ledger baseline for %s", key[0], exc_info=task.exception()
            )

    async def _seed_scope(
        self, baseline: Baseline, scope: str, month: str, limits: tuple[Limit, ...]
    ) -> None:
        """Start missing monthly counters from the ledger; NX keeps a concurrent seed's count."""
        tokens, micros = await baseline(scope, month)
        expires = month_start(month) + MONTH_KEY_SECONDS
        await asyncio.gather(
            *(
                self._client.execute(
                    "SET",
                    self._base(limit) + month,
                    max(0, tokens if limit.kind is Kind.MONTHLY_TOKENS else micros),
                    "NX",
                    "EXAT",
                    expires,
                )
                for limit in limits
            )
        )

    async def finish_seeding(self, seconds: float) -> bool:
        tasks = list(self._seeding.values())
        if not tasks:
            return False
        done, pending = await asyncio.wait(tasks, timeout=seconds)
        return not pending and all(not t.cancelled() and t.exception() is None for t in done)

    async def settle(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        try:
            await self.charge(ticket, tokens=tokens, cost_micros=cost_micros)
        except Exception:
            # The request has been served; a lost settlement costs accuracy, never the request.
            logger.warning("could not settle lease %s", ticket.lease_id, exc_info=True)

    async def charge(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        token_delta = max(0, tokens) - ticket.tokens
        cost_delta = max(0, cost_micros) - ticket.cost_micros
        args: list[Any] = [ticket.window, ticket.month, ticket.lease_id, token_delta, cost_delta]
        for limit in ticket.limits:
            kind = limit.kind
            if (
                kind is Kind.CONCURRENCY
                or (cost_delta and kind is Kind.MONTHLY_MICROS)
                or (token_delta and (kind is Kind.TOKENS or kind is Kind.MONTHLY_TOKENS))
            ):
                args.append(f"{_CODES[kind]}{self._base(limit)}")
        if len(args) > 5:  # nothing to adjust or release: no round trip
            await self._settle(args)

    async def consumption(self, scope: str) -> dict[Kind, int]:
        bases = [f"{self._bases[kind]}{scope}:" for kind in _CODES]
        values = await self._usage([self._window_seconds, *bases])
        return dict(zip(_CODES, (int(value) for value in values), strict=True))

    async def close(self) -> None:
        for task in list(self._seeding.values()):
            task.cancel()
        await self._client.aclose()
