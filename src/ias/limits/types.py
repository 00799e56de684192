"""The vocabulary every limiter speaks: limits, admissions, decisions and tickets.

Values are validated where they are built, so a negative or absurd limit fails at the
configuration that produced it rather than as a strange refusal later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# Far above any real quota, and small enough that every counter stays exact in Redis's Lua
# (whose numbers are doubles, exact up to 2**53) even after adding a reservation of the same size.
MAX_AMOUNT = 10**15


class Kind(StrEnum):
    REQUESTS = "requests"
    TOKENS = "tokens"
    CONCURRENCY = "concurrency"
    MONTHLY_TOKENS = "monthly_tokens"
    MONTHLY_MICROS = "monthly_micros"


RATE_KINDS = frozenset({Kind.REQUESTS, Kind.TOKENS, Kind.CONCURRENCY})
MONTHLY_KINDS = frozenset({Kind.MONTHLY_TOKENS, Kind.MONTHLY_MICROS})


def check_amount(name: str, value: object, *, minimum: int) -> int:
    """`value` as an int in [minimum, MAX_AMOUNT], or a ValueError that says what was wrong."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not minimum <= value <= MAX_AMOUNT:
        raise ValueError(f"{name} must be between {minimum} and {MAX_AMOUNT:,}, got {value:,}")
    return value


@dataclass(frozen=True, slots=True)
class Limit:
    """One ceiling: `limit` units of `kind` for `scope` ("key:<id>", "org:<id>:model:<name>")."""

    scope: str
    kind: Kind
    limit: int

    def __post_init__(self) -> None:
        scope = self.scope
        if not isinstance(scope, str) or not scope or not scope.isprintable() or " " in scope:
            raise ValueError(f"a limit scope must be non-empty text without spaces, got {scope!r}")
        try:
            object.__setattr__(self, "kind", Kind(self.kind))
        except ValueError:
            kinds = ", ".join(kind.value for kind in Kind)
            raise ValueError(f"unknown limit kind {self.kind!r}; expected one of {kinds}") from None
        check_amount(f"the {self.kind} limit of {scope}", self.limit, minimum=1)


@dataclass(frozen=True, slots=True)
class Admission:
    """What one request asks for: a unit of every rate, and `tokens`/`cost_micros` reserved."""

    lease_id: str
    limits: tuple[Limit, ...]
    tokens: int
    cost_micros: int

    def __post_init__(self) -> None:
        if not isinstance(self.lease_id, str) or not self.lease_id:
            raise ValueError(f"an admission needs a non-empty lease id, got {self.lease_id!r}")
        if not isinstance(self.limits, tuple):
            object.__setattr__(self, "limits", tuple(self.limits))
        check_amount("tokens to reserve", self.tokens, minimum=0)
        check_amount("cost to reserve (micro-dollars)", self.cost_micros, minimum=0)
        # Two limits on one counter would count the request twice.
        if len({(limit.scope, limit.kind) for limit in self.limits}) != len(self.limits):
            raise ValueError("an admission may carry at most one limit per scope and kind")


@dataclass(frozen=True, slots=True)
class RateState:
    limit: int
    remaining: int
    reset_seconds: float


@dataclass(frozen=True, slots=True)
class Ticket:
    """Everything settle() needs to put an admitted request's reservation right."""

    lease_id: str
    limits: tuple[Limit, ...]
    tokens: int
    cost_micros: int
    window: int
    month: str
    degraded: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    admitted: bool
    refused_by: Limit | None
    retry_after_seconds: float
    requests: RateState | None
    tokens: RateState | None
    ticket: Ticket | None
    # For a refusal: the refusing counter's value and what this request asked of it.
    used: int = 0
    requested: int = 0
    # Remaining allowance of every monthly limit after this decision (for the fail-closed cache).
    allowances: tuple[tuple[Limit, int], ...] = ()


Baseline = Callable[[str, str], Awaitable[tuple[int, int]]]
"""(scope, month "YYYYMM") → (tokens, micro-dollars) the ledger has recorded for that month."""


class Limiter(Protocol):
    async def admit(self, admission: Admission) -> Decision:
        """Check every limit and, only if all allow it, count the request against all."""

    async def settle(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        """Charge the real counts and release the lease; never raises."""

    async def consumption(self, scope: str) -> dict[Kind, int]:
        """This window's and this month's usage for one scope."""

    async def close(self) -> None: ...


class LimiterStore(Limiter, Protocol):
    async def charge(self, ticket: Ticket, *, tokens: int, cost_micros: int) -> None:
        """settle() that raises when the store fails, for a caller that replays it later."""

    async def finish_seeding(self, seconds: float) -> bool:
        """Wait up to `seconds` for ledger reads in flight; True if there were any and all ended.

        Seeding a month from the ledger is a database read, slower than a store round trip:
        a caller whose time budget ran out during one should wait for it, not blame the store.
        """
