"""Percentiles and medians, computed the same way everywhere in the benchmark."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import pairwise


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default.

    An empty sample has no percentile: NaN, which the report renders as a dash.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile lies between 0 and 100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    """The median of the values that are numbers (NaN, meaning "not measured", is skipped)."""
    present = [value for value in values if not math.isnan(value)]
    return percentile(present, 50)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of a latency sample, in milliseconds."""
    return {
        "p50": percentile(latencies_ms, 50),
        "p90": percentile(latencies_ms, 90),
        "p99": percentile(latencies_ms, 99),
        "max": max(latencies_ms, default=math.nan),
    }


def gaps(timestamps: Sequence[float]) -> list[float]:
    """The differences between consecutive timestamps."""
    return [later - earlier for earlier, later in pairwise(timestamps)]
