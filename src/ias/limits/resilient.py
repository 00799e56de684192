"""The failure policy around the shared limiter: bounded fail-open for rates, fail-closed for money.

Every call to the primary (Redis) is bounded by `timeout_seconds` (and each Redis reply by the
client's own 50 ms). When it fails:

- requests, tokens and concurrency fall back to an in-process limiter at limit ÷ replicas
  (at least 1), so the fleet as a whole stays near the limit and never runs unlimited;
- monthly quotas and budgets admit only within this router's share (÷ replicas) of the
  allowance the primary last reported, minus what the fallback has already spent; with no
  allowance known the request is refused with 503 rather than served unmetered.

After a failure the primary is skipped for `probe_interval_seconds`, then one call probes it;
success closes the circuit with no restart. Settlements the primary missed are replayed once it
answers again: in full when they were never sent, as a bare lease release when a call timed out
(it may have run, and only releasing a lease is safe to repeat), and fallback spend against
monthly limits is added so the shared counters catch up with what was served offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from ias.errors import Unavailable
from ias.limits.decisions import decide, requested
from ias.limits.memory import MemoryLimiter
from ias.limits.periods import WINDOW_SECONDS, month_of
from ias.limits.redis_limiter import TIMEOUT_SECONDS
from ias.limits.types import (
    MONTHLY_KINDS,
    Admission,
    Decision,
    Kind,
    Limit,
    LimiterStore,
    Ticket,
)

logger = logging.getLogger("ias.limits")

MAX_PENDING = 100_000
ScopeKind = tuple[str, Kind]


@dataclass(frozen=True, slots=True)
class _Pending:
    ticket: Ticket
    tokens: int
    cost_micros: int
    offline_spend: bool = False  # fallback spend being added to the primary's monthly counters


SEED_SECONDS = 2.0
# Redis itself gets TIMEOUT_SECONDS, enforced by its client, which tells a stuck server from a
# busy event loop. This outer bound, over a whole call, stays above it so that the client's
# verdict is the one that counts.
CALL_BUDGET_SECONDS = 2 * TIMEOUT_SECONDS


class ResilientLimiter:
    def __init__(
        self,
        primary: LimiterStore,
        *,
        replicas: Callable[[], int],
        timeout_seconds: float = CALL_BUDGET_SECONDS,
        probe_interval_seconds: float = 1.0,
        fallback: MemoryLimiter | None = None,
    ) -> None:
        self._primary = primary
        self._replicas = replicas
        self._timeout = timeout_seconds
        self._probe_interval = probe_interval_seconds
        self._fallback = fallback if fallback is not None else MemoryLimiter()
        self._open_until = 0.0  # monotonic time before which the primary is not tried
        self._allowances: dict[ScopeKind, int] = {}  # last remaining the primary reported
        self._offline: dict[ScopeKind, int] = {}  # fallback spend the primary has not counted
        self._pending: deque[_Pending] = deque()
        self._replay: asyncio.Task[None] | None = None
        self._replaying = asyncio.Lock()  # one replay at a time, in order
        self._on_degraded: Callable[[bool], None] | None = None

    def watch_degraded(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(degraded)` now and whenever the primary goes down or comes back."""
        self._on_degraded = callback
        callback(self.degraded)

    @property
    def degraded(self) -> bool:
        """True while the primary is considered down (for /ready and metrics)."""
        return self._open_until > 0.0

    async def admit(self, admission: Admission) -> Decision:
        if self._may_call_primary():
            try:
                decision = await self._admit_primary(admission)
            except Exception as exc:
                self._failed(exc)
                self._queue_release(admission.lease_id, admission.limits)
            else:
                self._answered()
                for limit, remaining in decision.allowances:
                    self._allowances[(limit.scope, limit.kind)] = remaining
                return decision
        return await self._admit_offline(admission)

    async def _admit_primary(self, admission: Admission) -> Decision:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._primary.admit(admission)
        except TimeoutError:
            # The budget may have gone on a ledger read that seeds this month's counters: a
            # slow database is not a dead store. Let it finish, then ask once more.
            if not await self._primary.finish_seeding(SEED_SECONDS):
                raise
        async with asyncio.timeout(self._timeout):
            return await self._primary.admit(admission)

    def _may_call_primary(self) -> bool:
        if self._open_until == 0.0:
            return True
        now = time.monotonic()
        if now < self._open_until:
            return False
        # Half-open: this call probes; the others keep to the fallback until it answers.
        self._open_until = now + self._probe_interval
        return True

    def _failed(self, exc: BaseException) -> None:
        if self._open_until == 0.0:
            logger.warning("limits store unreachable (%r); limiting locally", exc)
            if self._on_degraded is not None:
                self._on_degraded(True)
        self._open_until = time.monotonic() + self._probe_interval

    def _answered(self) -> None:
        if self._open_until != 0.0:
            logger.info("limits store reachable again")
            self._open_until = 0.0
            if self._on_degraded is not None:
                self._on_degraded(False)
        if self._pending and (self._replay is None or self._replay.done()):
            self._replay = asyncio.create_task(self.replay(), name="limits-replay")

    async def _admit_offline(self, admission: Admission) -> Decision:
        monthly = [limit for limit in admission.limits if limit.kind in MONTHLY_KINDS]
        replicas = max(1, self._replicas())
        for limit in monthly:
            refusal = self._check_offline_allowance(limit, admission, replicas)
            if refusal is not None:
                return refusal
        scaled = tuple(
            Limit(limit.scope, limit.kind, max(1, limit.limit // replicas))
            for limit in admission.limits
            if limit.kind not in MONTHLY_KINDS
        )
        decision = await self._fallback.admit(replace(admission, limits=scaled))
        if decision.ticket is None:
            return decision
        for limit in monthly:
            counter = (limit.scope, limit.kind)
            self._offline[counter] = self._offline.get(counter, 0) + requested(limit, admission)
        ticket = replace(decision.ticket, limits=admission.limits, degraded=True)
        return replace(decision, ticket=ticket)

    def _check_offline_allowance(
        self, limit: Limit, admission: Admission, replicas: int
    ) -> Decision | None:
        """None if this router may spend on `limit` offline, else a refusal; may raise 503."""
        counter = (limit.scope, limit.kind)
        allowance = self._allowances.get(counter)
        if allowance is None:
            raise Unavailable(
                f"The usage store is unreachable and no {limit.kind} allowance is known for "
                f"{limit.scope}, so the request cannot be admitted. Please try again shortly."
            )
        if allowance == 0:
            # The store's last word was "exhausted": refuse as it would have.
            return _quota_refusal(limit, admission)
        if self._offline.get(counter, 0) + requested(limit, admission) > allowance // replicas:
            raise Unavailable(
                f"The usage store is unreachable and this request would exceed the part of the "
                f"{limit.kind} allowance of {limit.scope} this server may spend on its own. "
                "Please try again shortly."
            )
        return None

    async def settle(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        if ticket.degraded:
            await self._fallback.settle(ticket, tokens=tokens, cost_micros=cost_micros)
            self._settle_offline(ticket, max(0, tokens), max(0, cost_micros))
            return
        if not self._may_call_primary():
            self._enqueue(_Pending(ticket, tokens, cost_micros))  # never sent: safe to replay
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._primary.charge(ticket, tokens=tokens, cost_micros=cost_micros)
        except Exception as exc:
            self._failed(exc)
            self._queue_release(ticket.lease_id, ticket.limits)
        else:
            self._answered()

    def _settle_offline(self, ticket: Ticket, tokens: int, cost_micros: int) -> None:
        """Swap the reservation for the real spend, and queue that spend for the primary."""
        monthly = tuple(limit for limit in ticket.limits if limit.kind in MONTHLY_KINDS)
        for limit in monthly:
            counter = (limit.scope, limit.kind)
            real = tokens if limit.kind is Kind.MONTHLY_TOKENS else cost_micros
            reserved = ticket.tokens if limit.kind is Kind.MONTHLY_TOKENS else ticket.cost_micros
            self._offline[counter] = max(0, self._offline.get(counter, 0) + real - reserved)
        if monthly:
            # Settling a zero reservation to the real figures adds exactly the real spend.
            spend = replace(ticket, limits=monthly, tokens=0, cost_micros=0, degraded=False)
            self._enqueue(_Pending(spend, tokens, cost_micros, offline_spend=True))

    def _queue_release(self, lease_id: str, limits: tuple[Limit, ...]) -> None:
        """Release a lease a timed-out call may have taken; releasing twice is harmless."""
        leases = tuple(limit for limit in limits if limit.kind is Kind.CONCURRENCY)
        if leases:
            ticket = Ticket(lease_id, leases, 0, 0, 0, "000000")
            self._enqueue(_Pending(ticket, 0, 0))

    def _enqueue(self, pending: _Pending) -> None:
        if len(self._pending) >= MAX_PENDING:
            logger.warning(
                "limits replay queue full; dropping the settlement of %s", pending.ticket.lease_id
            )
            return
        self._pending.append(pending)

    async def replay(self) -> None:
        """Send the primary what it missed, oldest first; stops at the first failure."""
        async with self._replaying:
            await self._replay_pending()

    async def _replay_pending(self) -> None:
        while self._pending:
            pending = self._pending.popleft()
            ticket = pending.ticket
            try:
                async with asyncio.timeout(self._timeout):
                    await self._primary.charge(
                        ticket, tokens=pending.tokens, cost_micros=pending.cost_micros
                    )
            except Exception as exc:
                self._pending.appendleft(pending)
                self._failed(exc)
                return
            if pending.offline_spend:
                self._forget_offline(ticket.limits, pending.tokens, pending.cost_micros)

    def _forget_offline(self, limits: tuple[Limit, ...], tokens: int, cost_micros: int) -> None:
        for limit in limits:
            counter = (limit.scope, limit.kind)
            spent = tokens if limit.kind is Kind.MONTHLY_TOKENS else cost_micros
            self._offline[counter] = max(0, self._offline.get(counter, 0) - spent)

    async def consumption(self, scope: str) -> dict[Kind, int]:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._primary.consumption(scope)
        except Exception as exc:
            raise Unavailable(
                "Usage counters are unavailable right now; please try again shortly."
            ) from exc

    async def close(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
        await self._primary.close()
        await self._fallback.close()


def _quota_refusal(limit: Limit, admission: Admission) -> Decision:
    """The refusal the primary gave last time, rebuilt from the local clock."""
    now = time.time()
    limits = (limit,)
    return decide(
        replace(admission, limits=limits),
        (limit.limit,),
        refused=0,
        now=now,
        window=int(now // WINDOW_SECONDS),
        window_seconds=WINDOW_SECONDS,
        month=month_of(now),
    )
