"""From the raw results of every round to one figure per metric: medians across rounds.

Added latency and ratios are computed within each round (arm minus direct, arm over direct,
measured seconds apart) and only then reduced to a median, so the slow drift of a noisy machine
cancels instead of leaking into the comparison. The limits arm is compared the same way with
the router arm without limits: what turning every limit on costs.
"""

from __future__ import annotations

import math
from typing import Any

from bench.router.config import DIRECT, LIMITED, ROUTER
from bench.router.stats import median

Result = dict[str, Any]
Phase = list[dict[str, Result]]  # one {arm: result} per round
BASELINE = DIRECT
OVERLOAD_SHARE = 0.9  # an arm delivering less than this share of the offered rate is overloaded


def _values(phase: Phase, arm: str, *path: str) -> list[float]:
    values = []
    for arms in phase:
        value: Any = arms.get(arm)
        for step in path:
            value = None if value is None else value.get(step)
        values.append(math.nan if value is None else float(value))
    return values


def _total(phase: Phase, arm: str, field: str) -> int:
    return sum(int(arms[arm].get(field, 0)) for arms in phase if arm in arms)


def _added(phase: Phase, arm: str, *path: str, base: str = BASELINE) -> float:
    pairs = zip(_values(phase, arm, *path), _values(phase, base, *path), strict=True)
    return median(ours - theirs for ours, theirs in pairs)


def _ratio(phase: Phase, arm: str, *path: str, base: str = BASELINE) -> float:
    pairs = zip(_values(phase, arm, *path), _values(phase, base, *path), strict=True)
    return median(ours / theirs if theirs else math.nan for ours, theirs in pairs)


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


def _limits_cost(rounds: list[Result]) -> Result:
    """The limits arm against the router arm without limits, within each round."""
    throughput: Phase = [round_["throughput"] for round_ in rounds]
    streams: Phase = [round_["stream"] for round_ in rounds]
    rates = list(rounds[0]["rates"]) if rounds else []
    added = {}
    for rate in rates:
        phase = [round_["rates"][rate] for round_ in rounds]
        added[rate] = {
            "added_p50": _added(phase, LIMITED, "latency_ms", "p50", base=ROUTER),
            "added_p99": _added(phase, LIMITED, "latency_ms", "p99", base=ROUTER),
        }
    fallbacks = {
        "throughput": _total(throughput, LIMITED, "limiter_fallbacks"),
        **{
            rate: _total([round_["rates"][rate] for round_ in rounds], LIMITED, "limiter_fallbacks")
            for rate in rates
        },
        "stream": _total(streams, LIMITED, "limiter_fallbacks"),
    }
    return {
        "limiter_fallbacks": fallbacks,  # per phase, all rounds: each one ran without Redis
        "rps_ratio": _ratio(throughput, LIMITED, "rps", base=ROUTER),
        "cpu_ratio": _ratio(throughput, LIMITED, "cpu_ms_per_request", base=ROUTER),
        "cpu_added_ms": _added(throughput, LIMITED, "cpu_ms_per_request", base=ROUTER),
        "redis_cpu_added_ms": _added(throughput, LIMITED, "redis_cpu_ms_per_request", base=ROUTER),
        "ttft_added_p50": _added(streams, LIMITED, "ttft_ms", "p50", base=ROUTER),
        "rates": added,
    }


def summarize(rounds: list[Result], memory: dict[str, Result], arms: list[str]) -> Result:
    """Per arm: medians across rounds, and additions to and ratios over the direct arm; the
    limits arm also gets `vs_router`: its additions to and ratios over the router arm.

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
            "redis_cpu_ms_per_request": median(
                _values(throughput, arm, "redis_cpu_ms_per_request")
            ),
            "rates": {
                rate: _rate([round_["rates"][rate] for round_ in rounds], arm, float(rate))
                for rate in rates
            },
            "stream": _stream(streams, arm),
            "rss_idle_mb": memory.get(arm, {}).get("idle_mb", math.nan),
            "rss_after_mb": memory.get(arm, {}).get("after_mb", math.nan),
        }
    if LIMITED in summary and ROUTER in summary:
        summary[LIMITED]["vs_router"] = _limits_cost(rounds)
    return summary
