"""From the raw results of every round to one figure per metric: medians across rounds.

Added latency and ratios are computed within each round (arm minus direct, arm over direct,
measured seconds apart) and only then reduced to a median, so the slow drift of a noisy machine
cancels instead of leaking into the comparison.
"""

from __future__ import annotations

import math
from typing import Any

from bench.router.stats import median

Result = dict[str, Any]
Phase = list[dict[str, Result]]  # one {arm: result} per round
BASELINE = "direct"
OVERLOAD_SHARE = 0.9  # an arm delivering less than this share of the offered rate is overloaded


def _values(phase: Phase, arm: str, *path: str) -> list[float]:
    values = []
    for arms in phase:
        value: Any = arms.get(arm)
        for step in path:
            value = None if value is None else value.get(step)
        values.append(math.nan if value is None else float(value))
    return values


def _added(phase: Phase, arm: str, *path: str) -> float:
    pairs = zip(_values(phase, arm, *path), _values(phase, BASELINE, *path), strict=True)
    return median(ours - base for ours, base in pairs)


def _ratio(phase: Phase, arm: str, *path: str) -> float:
    pairs = zip(_values(phase, arm, *path), _values(phase, BASELINE, *path), strict=True)
    return median(ours / base if base else math.nan for ours, base in pairs)


def overloaded(result: Result, rate: float) -> bool:
    return bool(result["errors"]) or result["achieved_rps"] < OVERLOAD_SHARE * rate


def _rate(phase: Phase, arm: str, rate: float) -> Result:
    results = [arms[arm] for arms in phase]
    return {
        "p50": median(_values(phase, arm, "latency_ms", "p50")),
        "p99": median(_values(phase, arm, "latency_ms", "p99")),
        "achieved_rps": median(_values(phase, arm, "achieved_rps")),
        "errors": sum(result["errors"] for result in results),
        "service_p50": median(_values(phase, arm, "service_ms", "p50")),
        "service_p99": median(_values(phase, arm, "service_ms", "p99")),
        "send_lag_p99": median(_values(phase, arm, "send_lag_ms", "p99")),
        # Overloaded in most rounds: one hiccup on a shared machine is not a verdict.
        "overloaded": 2 * sum(overloaded(result, rate) for result in results) > len(results),
        "added_p50": _added(phase, arm, "latency_ms", "p50"),
        "added_p99": _added(phase, arm, "latency_ms", "p99"),
    }


def _stream(phase: Phase, arm: str) -> Result:
    results = [arms[arm] for arms in phase]
    return {
        "ttft_p50": median(_values(phase, arm, "ttft_ms", "p50")),
        "ttft_added_p50": _added(phase, arm, "ttft_ms", "p50"),
        "gap_p50": median(_values(phase, arm, "gap_ms", "p50")),
        "gap_p99": median(_values(phase, arm, "gap_ms", "p99")),
        "cpu_ms_per_stream": median(_values(phase, arm, "cpu_ms_per_stream")),
        "events_per_stream": sorted({n for result in results for n in result["events_per_stream"]}),
        "tokens_per_stream": sorted({n for result in results for n in result["tokens_per_stream"]}),
        "token_arrivals": median(_values(phase, arm, "token_arrivals_median")),
        "errors": sum(result["errors"] for result in results),
    }


def summarize(rounds: list[Result], memory: dict[str, Result], arms: list[str]) -> Result:
    """Per arm: medians across rounds, and additions to and ratios over the direct arm.

    A round is ``{"throughput": {arm: …}, "rates": {"50": {arm: …}, …}, "stream": {arm: …}}``.
    """
    throughput: Phase = [round_["throughput"] for round_ in rounds]
    streams: Phase = [round_["stream"] for round_ in rounds]
    rates = list(rounds[0]["rates"]) if rounds else []
    summary: Result = {}
    for arm in arms:
        summary[arm] = {
            "max_rps": median(_values(throughput, arm, "rps")),
            "throughput_errors": sum(arms_[arm]["errors"] for arms_ in throughput),
            "ratio_to_direct": _ratio(throughput, arm, "rps"),
            "cpu_ms_per_request": median(_values(throughput, arm, "cpu_ms_per_request")),
            "rates": {
                rate: _rate([round_["rates"][rate] for round_ in rounds], arm, float(rate))
                for rate in rates
            },
            "stream": _stream(streams, arm),
            "rss_idle_mb": memory.get(arm, {}).get("idle_mb", math.nan),
            "rss_after_mb": memory.get(arm, {}).get("after_mb", math.nan),
        }
    return summary
