"""Backend choice: least outstanding requests among healthy backends, weights honoured.

Power of two choices: draw two distinct backends with probability proportional to weight and
take the one with fewer outstanding requests per unit of weight. A backend that fails
`eject_after` times in a row is ejected for `eject_seconds`; the active prober (or the end of the
ejection) lets it back. If every backend is ejected, the least recently ejected one is tried
rather than refusing outright.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

EJECT_AFTER_FAILURES = 3
EJECT_SECONDS = 10.0


@dataclass(slots=True, eq=False)
class BackendState:
    id: uuid.UUID
    url: str
    api_key: str | None
    weight: int
    outstanding: int = 0
    consecutive_failures: int = 0
    ejected_until: float = 0.0
    probe_ok: bool = field(default=True)

    def healthy(self, now: float) -> bool:
        return self.probe_ok and self.ejected_until <= now

    def load(self) -> float:
        return self.outstanding / self.weight

    def succeeded(self) -> None:
        self.consecutive_failures = 0
        self.ejected_until = 0.0

    def failed(self, now: float) -> None:
        self.consecutive_failures += 1
        if self.consecutive_failures >= EJECT_AFTER_FAILURES:
            self.ejected_until = now + EJECT_SECONDS


def pick(
    backends: tuple[BackendState, ...],
    exclude: set[uuid.UUID],
    rng: random.Random,
    now: float | None = None,
) -> BackendState | None:
    now = time.monotonic() if now is None else now
    candidates = [b for b in backends if b.id not in exclude]
    healthy = [b for b in candidates if b.healthy(now)]
    if not healthy:
        # Better a likely failure than a certain one: try whoever was ejected first.
        return min(candidates, key=lambda b: b.ejected_until, default=None)
    if len(healthy) == 1:
        return healthy[0]
    first, second = _two_by_weight(healthy, rng)
    return first if first.load() <= second.load() else second


def _two_by_weight(
    backends: list[BackendState], rng: random.Random
) -> tuple[BackendState, BackendState]:
    first = rng.choices(backends, weights=[b.weight for b in backends])[0]
    rest = [b for b in backends if b is not first]
    second = rng.choices(rest, weights=[b.weight for b in rest])[0]
    return first, second
