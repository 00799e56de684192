"""The in-process limiter: the embedded default, and the fallback when Redis is unreachable.

Same meaning as `RedisLimiter`, checked by one shared test suite. Atomicity comes from asyncio:
between reading the counters and incrementing them there is no `await`, so no other request
can interleave (the only awaits, the ledger baseline, happen before the check).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ias.limits.decisions import decide, requested, unlimited
from ias.limits.periods import WINDOW_SECONDS, month_of
from ias.limits.types import Admission, Baseline, Decision, Kind, Limit, Ticket

logger = logging.getLogger("ias.limits")

CounterId = tuple[Kind, str]
Period = TypeVar("Period", int, str)


class MemoryLimiter:
    def __init__(
        self,
        *,
        window_seconds: int = WINDOW_SECONDS,
        lease_ttl_seconds: float = 600.0,
        baseline: Baseline | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window_seconds < 1 or lease_ttl_seconds <= 0:
            raise ValueError("window_seconds must be ≥ 1 and lease_ttl_seconds > 0")
        self._window_seconds = window_seconds
        self._lease_ttl = lease_ttl_seconds
        self._baseline = baseline
        self._clock = clock
        self._windows: dict[CounterId, tuple[int, int]] = {}  # (window id, count)
        self._months: dict[CounterId, tuple[str, int]] = {}  # ("YYYYMM", used)
        self._leases: dict[str, dict[str, float]] = {}  # scope → lease id → expiry

    async def admit(self, admission: Admission) -> Decision:
        if not admission.limits:
            now = self._clock()
            return unlimited(admission, now, self._window_seconds, month_of(now))
        if self._baseline is not None:
            await self._seed_months(admission.limits, self._baseline)
        now = self._clock()
        window = int(now // self._window_seconds)
        month = month_of(now)
        used = [self._count(limit, now, window, month) for limit in admission.limits]
        refused = next(
            (
                index
                for index, limit in enumerate(admission.limits)
                if used[index] + requested(limit, admission) > limit.limit
            ),
            None,
        )
        if refused is None:
            for index, limit in enumerate(admission.limits):
                used[index] += self._take(limit, admission, now, window, month)
        return decide(
            admission,
            used,
            refused=refused,
            now=now,
            window=window,
            window_seconds=self._window_seconds,
            month=month,
        )

    def _count(self, limit: Limit, now: float, window: int, month: str) -> int:
        kind = limit.kind
        if kind is Kind.CONCURRENCY:
            return self._live_leases(limit.scope, now)
        if kind is Kind.REQUESTS or kind is Kind.TOKENS:
            slot = self._windows.get((kind, limit.scope))
            return slot[1] if slot is not None and slot[0] == window else 0
        entry = self._months.get((kind, limit.scope))
        return entry[1] if entry is not None and entry[0] == month else 0

    def _live_leases(self, scope: str, now: float) -> int:
        leases = self._leases.get(scope)
        if not leases:
            return 0
        expired = [lease for lease, expiry in leases.items() if expiry <= now]
        for lease in expired:
            del leases[lease]
        return len(leases)

    def _take(self, limit: Limit, admission: Admission, now: float, window: int, month: str) -> int:
        """Count the admitted request against `limit`; returns what it added."""
        kind, scope = limit.kind, limit.scope
        amount = requested(limit, admission)
        if kind is Kind.CONCURRENCY:
            self._leases.setdefault(scope, {})[admission.lease_id] = now + self._lease_ttl
        elif kind is Kind.REQUESTS or kind is Kind.TOKENS:
            self._windows[(kind, scope)] = (window, self._count(limit, now, window, month) + amount)
        else:
            self._months[(kind, scope)] = (month, self._count(limit, now, window, month) + amount)
        return amount

    async def _seed_months(self, limits: tuple[Limit, ...], baseline: Baseline) -> None:
        """Start a month missing from memory (a restart, a new month) from the ledger's figure."""
        month = month_of(self._clock())
        fetched: dict[str, tuple[int, int]] = {}
        for limit in limits:
            kind = limit.kind
            if kind is not Kind.MONTHLY_TOKENS and kind is not Kind.MONTHLY_MICROS:
                continue
            entry = self._months.get((kind, limit.scope))
            if entry is not None and entry[0] == month:
                continue
            if limit.scope not in fetched:
                fetched[limit.scope] = await baseline(limit.scope, month)
            tokens, micros = fetched[limit.scope]
            value = tokens if kind is Kind.MONTHLY_TOKENS else micros
            # Set only if still missing: a concurrent admission may have seeded and counted.
            entry = self._months.get((kind, limit.scope))
            if entry is None or entry[0] != month:
                self._months[(kind, limit.scope)] = (month, max(0, value))

    async def settle(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        await self.charge(ticket, tokens=tokens, cost_micros=cost_micros)

    async def charge(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        token_delta = max(0, tokens) - ticket.tokens
        cost_delta = max(0, cost_micros) - ticket.cost_micros
        for limit in ticket.limits:
            kind, scope = limit.kind, limit.scope
            if kind is Kind.CONCURRENCY:
                leases = self._leases.get(scope)
                if leases is not None:
                    leases.pop(ticket.lease_id, None)
            elif kind is Kind.TOKENS:
                _adjust(self._windows, (kind, scope), ticket.window, token_delta)
            elif kind is Kind.MONTHLY_TOKENS:
                _adjust(self._months, (kind, scope), ticket.month, token_delta)
            elif kind is Kind.MONTHLY_MICROS:
                _adjust(self._months, (kind, scope), ticket.month, cost_delta)

    async def consumption(self, scope: str) -> dict[Kind, int]:
        now = self._clock()
        window = int(now // self._window_seconds)
        month = month_of(now)
        return {kind: self._count(Limit(scope, kind, 1), now, window, month) for kind in Kind}

    async def finish_seeding(self, seconds: float) -> bool:
        return False  # seeding runs inside admit(), under the caller's own await

    async def close(self) -> None:
        self._windows.clear()
        self._months.clear()
        self._leases.clear()


def _adjust(
    counters: dict[CounterId, tuple[Period, int]], key: CounterId, period: Period, delta: int
) -> None:
    entry = counters.get(key)
    # A period that has ended is left alone: its count no longer limits anything.
    if delta and entry is not None and entry[0] == period:
        counters[key] = (period, max(0, entry[1] + delta))
