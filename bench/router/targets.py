"""The router's performance targets (docs: PERFORMANCE.md) checked against one run's summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.router.config import DIRECT, LIMITED, ROUTER
from bench.router.formatting import number

Summary = dict[str, Any]
ARM = ROUTER
LITELLM = "litellm"
LIMITS_SHARE = 0.8  # the limits issue: throughput with every limit on within 20% of limits off


@dataclass(frozen=True, slots=True)
class Check:
    metric: str
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run

    @property
    def mark(self) -> str:
        return {True: "pass", False: "**FAIL**", None: "not measured"}[self.passed]


def _ms(value: float, signed: bool = True) -> str:
    return number(value, signed=signed)


def _latency_check(router: Summary, rate: str, p50_max: float, p99_max: float) -> Check:
    measured = router["rates"].get(rate)
    target = f"≤ {p50_max:g} ms p50, ≤ {p99_max:g} ms p99"
    metric = f"added latency at {int(rate):,} req/s"
    if measured is None:
        return Check(metric, target, "not run", None)
    if measured["overloaded"]:
        got = f"overloaded ({measured['achieved_rps']:,.0f} req/s got through)"
        return Check(metric, target, got, False)
    p50, p99 = measured["added_p50"], measured["added_p99"]
    text = f"{_ms(p50)} / {_ms(p99)} ms"
    return Check(metric, target, text, p50 <= p50_max and p99 <= p99_max)


def _streaming_checks(summary: Summary, chunks: int) -> list[Check]:
    router, direct = summary[ARM]["stream"], summary[DIRECT]["stream"]
    ttft = router["ttft_added_p50"]
    same_events = router["events_per_stream"] == direct["events_per_stream"]
    whole = router["tokens_per_stream"] == [chunks] and not router["errors"]
    separate = router["token_arrivals"] >= direct["token_arrivals"]
    chunk_text = (
        f"{'/'.join(map(str, router['events_per_stream']))} events per stream "
        f"(direct {'/'.join(map(str, direct['events_per_stream']))}); "
        f"{router['token_arrivals']:g} separate token arrivals (direct "
        f"{direct['token_arrivals']:g})"
    )
    cpu = router["cpu_ms_per_stream"]
    return [
        Check("streaming TTFT added", "≤ 1.3 ms p50", f"{_ms(ttft)} ms", ttft <= 1.3),
        Check(
            "streaming chunks",
            "no buffering or merging",
            chunk_text,
            same_events and whole and separate,
        ),
        Check(f"CPU per {chunks}-chunk stream", "≤ 8 ms", f"{_ms(cpu, False)} ms", cpu <= 8),
    ]


def _limits_checks(summary: Summary, fallbacks: int) -> list[Check]:
    throughput_metric = "throughput, all limits on vs off"
    cpu_metric = "CPU per request, all limits on vs off"
    throughput_target = f"≥ {LIMITS_SHARE:.2f}x (within 20%)"
    cpu_target = f"≤ {1 / LIMITS_SHARE:.2f}x (the same 20% as CPU time)"
    if LIMITED not in summary or "vs_router" not in summary[LIMITED]:
        return [
            Check(throughput_metric, throughput_target, "not run", None),
            Check(cpu_metric, cpu_target, "not run", None),
        ]
    limited, router, cost = summary[LIMITED], summary[ARM], summary[LIMITED]["vs_router"]
    caveat = (
        f"; {fallbacks} limiter fallback{'s' if fallbacks != 1 else ''} to memory (partly "
        "measured without Redis)"
        if fallbacks
        else ""
    )
    rps_text = (
        f"{number(cost['rps_ratio'])}x ({number(limited['max_rps'], grouped=True)} vs "
        f"{number(router['max_rps'], grouped=True)} req/s){caveat}"
    )
    cpu_text = (
        f"{number(cost['cpu_ratio'])}x ({number(limited['cpu_ms_per_request'], 3)} vs "
        f"{number(router['cpu_ms_per_request'], 3)} ms, "
        f"{number(cost['cpu_added_ms'], 3, signed=True)} ms; Redis itself "
        f"{number(cost['redis_cpu_added_ms'], 3, signed=True)} ms){caveat}"
    )
    return [
        Check(throughput_metric, throughput_target, rps_text, cost["rps_ratio"] >= LIMITS_SHARE),
        Check(cpu_metric, cpu_target, cpu_text, cost["cpu_ratio"] <= 1 / LIMITS_SHARE),
    ]


def open_streams_check(measured: Summary | None) -> Check:
    """≤ 40 MB more resident memory per 1,000 open streams than idle, all of them really open."""
    metric, target = "memory per 1,000 open streams", "≤ 40 MB"
    if not measured:
        return Check(metric, target, "not run", None)
    per_1000 = measured["mb_per_1000"]
    text = (
        f"{number(per_1000, 1)} MB ({number(measured['idle_mb'], 0)} → "
        f"{number(measured['open_mb'], 0)} MB with {measured['opened']:,} streams open)"
    )
    if not measured["complete"]:
        text += (
            f"; only {measured['opened']:,} of {measured['streams']:,} opened, "
            f"{measured['ended_while_held']} ended while held"
        )
        return Check(metric, target, text, False)
    return Check(metric, target, text, per_1000 <= 40)


def evaluate(summary: Summary, chunks: int, limiter_fallbacks: int = 0) -> list[Check]:
    """The checks of the router arm (limits off), then what turning every limit on costs."""
    router = summary[ARM]
    rps, cpu = router["max_rps"], router["cpu_ms_per_request"]
    checks = [
        Check("sustained throughput", "≥ 3,000 req/s per core", f"{rps:,.0f} req/s", rps >= 3000),
        Check(
            "CPU per request",
            "≤ 0.33 ms (one core at 3,000 req/s)",
            f"{_ms(cpu, False)} ms",
            cpu <= 1000 / 3000,
        ),
    ]
    checks += _limits_checks(summary, limiter_fallbacks)
    if "vs_litellm" in router:
        ratio = router["vs_litellm"]["rps_ratio"]  # taken within each round
        measured = (
            f"{number(ratio, 1)}x ({rps:,.0f} vs "
            f"{number(summary[LITELLM]['max_rps'], grouped=True)} req/s)"
        )
        checks.append(Check("throughput vs LiteLLM", "at least 16x", measured, ratio >= 16))
    checks += [
        _latency_check(router, "50", 1.3, 3),
        _latency_check(router, "200", 1, 4),
        _latency_check(router, "1000", 2, 10),
        *_streaming_checks(summary, chunks),
        Check(
            "memory idle",
            "≤ 80 MB per worker",
            f"{router['rss_idle_mb']:.0f} MB",
            router["rss_idle_mb"] <= 80,
        ),
        open_streams_check(router.get("open_streams")),
        Check(
            "usage pipeline",
            "≥ 20,000 events/s into PostgreSQL",
            "measured by `python -m bench.usage`",
            None,
        ),
        Check(
            "overload",
            "fast 429/503, 0 time-outs",
            "not measured by this benchmark (its limits never refuse)",
            None,
        ),
    ]
    return checks
