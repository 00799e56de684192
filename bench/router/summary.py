"""From the raw results of every round to one figure per metric: medians across rounds.

Added latency and ratios are computed within each round (arm minus direct, arm over direct,
measured seconds apart) and only then reduced to a median, so the slow drift of a noisy machine
cancels instead of leaking into the comparison. The limits arm is compared the same way with
the router arm without limits: what turning every limit on costs. With the LiteLLM arm, each
router arm is compared with it too: throughput and CPU ratios within each round; the ratio of
the latency each adds to direct is taken between those within-round additions' medians (an
addition of a fraction of a millisecond, divided round by round, would be mostly noise).
"""

from __future__ import annotations

import math
from typing import Any

from bench.router.config import DIRECT, LIMITED, ROUTER
from bench.router.stats import median

Result = dict[str, Any]
Phase = list[dict[str, Result]]  # one {arm: result} per round
BASELINE = DIRECT
LITELLM = "litellm"
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


def _idle(phase: Phase, arm: str) -> Result:
    """Requests sent one at a time: the absolute latency and what the arm adds to direct."""
    return {
        "p50": median(_values(phase, arm, "latency_ms", "p50")),
        "p99": median(_values(phase, arm, "latency_ms", "p99")),
        "added_p50": _added(phase, arm, "latency_ms", "p50"),
        "added_p99": _added(phase, arm, "latency_ms", "p99"),
        "errors": _total(phase, arm, "errors"),
    }


def quotient(ours: float, theirs: float) -> float:
    """ours ÷ theirs, or NaN when theirs is not a positive number (nothing to compare with)."""
    if math.isnan(ours) or math.isnan(theirs) or theirs <= 0:
        return math.nan
    return ours / theirs


def _vs_litellm(rounds: list[Result], summary: Result, arm: str) -> Result:
    """The arm against LiteLLM: above 1 is better for throughput, below 1 for the rest."""
    throughput: Phase = [round_["throughput"] for round_ in rounds]
    streams: Phase = [round_["stream"] for round_ in rounds]
    ours, theirs = summary[arm], summary[LITELLM]
    rates = {}
    for rate, measured in ours["rates"].items():
        peer = theirs["rates"][rate]
        rates[rate] = {
            "overloaded": measured["overloaded"] or peer["overloaded"],
            "p50": quotient(measured["added_p50"], peer["added_p50"]),
            "p99": quotient(measured["added_p99"], peer["added_p99"]),
        }
    open_ours = (ours.get("open_streams") or {}).get("mb_per_1000", math.nan)
    open_theirs = (theirs.get("open_streams") or {}).get("mb_per_1000", math.nan)
    return {
        "rps_ratio": _ratio(throughput, arm, "rps", base=LITELLM),
        "cpu_ratio": _ratio(throughput, arm, "cpu_ms_per_request", base=LITELLM),
        "cpu_stream_ratio": _ratio(streams, arm, "cpu_ms_per_stream", base=LITELLM),
        "idle": {
            "p50": quotient(ours["idle"]["added_p50"], theirs["idle"]["added_p50"]),
            "p99": quotient(ours["idle"]["added_p99"], theirs["idle"]["added_p99"]),
        },
        "rates": rates,
        "ttft_added_ratio": quotient(
            ours["stream"]["ttft_added_p50"], theirs["stream"]["ttft_added_p50"]
        ),
        "rss_ratio": quotient(ours["rss_idle_mb"], theirs["rss_idle_mb"]),
        "open_streams_ratio": quotient(open_ours, open_theirs),
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


def summarize(
    rounds: list[Result],
    memory: dict[str, Result],
    arms: list[str],
    open_streams: dict[str, Result] | None = None,
) -> Result:
    """Per arm: medians across rounds, and additions to and ratios over the direct arm; the
    limits arm also gets `vs_router`: its additions to and ratios over the router arm; with a
    LiteLLM arm, every other arm but direct gets `vs_litellm`.

    A round is ``{"idle": {arm: …}, "throughput": {arm: …}, "rates": {"50": {arm: …}, …},
    "stream": {arm: …}}``; `open_streams` holds each arm's one open-streams measurement.
    """
    idle: Phase = [round_.get("idle", {}) for round_ in rounds]
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
            "idle": _idle(idle, arm),
            "stream": _stream(streams, arm),
            "rss_idle_mb": memory.get(arm, {}).get("idle_mb", math.nan),
            "rss_after_mb": memory.get(arm, {}).get("after_mb", math.nan),
            "open_streams": (open_streams or {}).get(arm),
        }
    if LIMITED in summary and ROUTER in summary:
        summary[LIMITED]["vs_router"] = _limits_cost(rounds)
    if LITELLM in summary:
        for arm in arms:
            if arm not in {DIRECT, LITELLM}:
                summary[arm]["vs_litellm"] = _vs_litellm(rounds, summary, arm)
    return summary
