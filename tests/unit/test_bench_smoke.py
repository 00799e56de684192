"""The router benchmark's own arithmetic and report, on made-up measurements.

The benchmark itself needs real servers and minutes of load (`python -m bench.router`); what
is checked here is that it computes and presents its figures correctly.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from bench.router import wrk
from bench.router.logs import fallback_causes
from bench.router.procstat import parse_rss_kib, parse_stat
from bench.router.report import render
from bench.router.stats import gaps, median, percentile
from bench.router.summary import summarize
from bench.router.targets import evaluate


def test_percentiles_interpolate_between_ranks() -> None:
    sample = [float(value) for value in range(10, 0, -1)]  # unsorted on purpose
    assert percentile(sample, 0) == 1
    assert percentile(sample, 50) == 5.5
    assert percentile(sample, 100) == 10
    assert percentile(sample, 99) == pytest.approx(9.91)
    assert percentile([4.0], 99) == 4


def test_an_empty_sample_has_no_percentile() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_the_median_ignores_what_was_not_measured() -> None:
    assert median([3.0, math.nan, 1.0, 2.0]) == 2
    assert math.isnan(median([math.nan]))


def test_gaps_between_chunk_timestamps() -> None:
    assert gaps([1.0, 1.5, 3.0]) == [0.5, 1.5]
    assert gaps([1.0]) == []


def test_proc_stat_is_read_past_a_command_name_with_spaces_and_parentheses() -> None:
    line = "4242 (ias (router) x) S 17 4242 17 0 -1 4194560 9 0 0 0 250 31 0 0 20 0 3 0 1 2 3"
    assert parse_stat(line) == (17, 281)
    assert parse_rss_kib("Name:\tias\nVmRSS:\t  51200 kB\nThreads:\t3\n") == 51200
    assert parse_rss_kib("Name:\tzombie\n") == 0


def test_limiter_fallbacks_are_counted_by_cause_in_the_router_log() -> None:
    def line(cause: str) -> str:
        message = f"limits store unreachable ({cause}); limiting locally"
        return f'{{"level":"warning","logger":"ias.limits","message":"{message}"}}\n'

    log = line("TimeoutError()") + '{"message":"other"}\n' + line("TimeoutError()")
    log += line("ConnectionError('Error 111 connecting (refused)')")
    assert fallback_causes(log) == {
        "TimeoutError()": 2,
        "ConnectionError('Error 111 connecting (refused)')": 1,
    }
    assert not fallback_causes('{"message":"limits store reachable again"}\n')


def test_wrk_posts_through_lua_and_its_summary_is_parsed() -> None:
    script = wrk.lua_script(b'{"model":"m"}', {"authorization": "Bearer k"})
    assert 'wrk.body = [====[{"model":"m"}]====]' in script
    # `wrk.headers[[` would open a Lua long string instead of indexing the table.
    assert "wrk.headers[ [====[authorization]====] ] = [====[Bearer k]====]" in script
    output = (
        "Running 10s test @ http://127.0.0.1:1/v1/chat/completions\n"
        'WRK_RESULT {"requests":31000,"duration_us":10000000,"connect":0,"read":0,'
        '"write":0,"status":1000,"timeout":0,"p50_us":2500,"p99_us":9000}\n'
    )
    result = wrk.parse_output(output)
    assert result["requests"] == 30000
    assert result["errors"] == 1000
    assert result["rps"] == 3000
    assert result["latency_ms"] == {"p50": 2.5, "p99": 9.0}


def _rate(p50: float, p99: float, achieved: float, errors: int = 0) -> dict[str, Any]:
    return {
        "latency_ms": {"p50": p50, "p99": p99},
        "service_ms": {"p50": p50, "p99": p99},
        "send_lag_ms": {"p99": 0.1},
        "achieved_rps": achieved,
        "errors": errors,
    }


def _stream(ttft: float, events: int = 23, arrivals: float = 20) -> dict[str, Any]:
    return {
        "ttft_ms": {"p50": ttft},
        "gap_ms": {"p50": 5.1, "p99": 5.9},
        "cpu_ms_per_stream": 2.5,
        "events_per_stream": [events],
        "tokens_per_stream": [20],
        "token_arrivals_median": arrivals,
        "errors": 0,
    }


def _round(
    direct_rps: float, router_rps: float, router_p50: float, limited_rps: float = 0
) -> dict[str, Any]:
    """One round of the direct and router arms, and of the limits arm when `limited_rps`."""
    round_: dict[str, Any] = {
        "order": ["direct", "router"],
        "throughput": {
            "direct": {"rps": direct_rps, "errors": 0, "cpu_ms_per_request": 0.1},
            "router": {
                "rps": router_rps,
                "errors": 0,
                "cpu_ms_per_request": 0.3,
                "redis_cpu_ms_per_request": 0.001,
            },
        },
        "rates": {
            "50": {"direct": _rate(1.0, 2.0, 50), "router": _rate(router_p50, 3.0, 50)},
            "1000": {"direct": _rate(0.8, 2.0, 1000), "router": _rate(900, 9000, 400, 7)},
        },
        "stream": {"direct": _stream(1.0), "router": _stream(1.4)},
    }
    if limited_rps:
        round_["order"].append("router+limits")
        round_["throughput"]["router+limits"] = {
            "rps": limited_rps,
            "errors": 0,
            "cpu_ms_per_request": 0.36,
            "redis_cpu_ms_per_request": 0.021,
            "limiter_fallbacks": 1 if limited_rps < 2500 else 0,
        }
        round_["rates"]["50"]["router+limits"] = _rate(router_p50 + 0.3, 3.5, 50)
        round_["rates"]["1000"]["router+limits"] = _rate(1000, 9500, 380, 9)
        round_["stream"]["router+limits"] = _stream(1.6)
    return round_


ARMS = ["direct", "router", "router+limits"]
MEMORY = {"direct": {"idle_mb": 40, "after_mb": 42}, "router": {"idle_mb": 70, "after_mb": 75}}


@pytest.fixture
def summary() -> dict[str, Any]:
    rounds = [
        _round(9000, 3600, 1.5, 3000),
        _round(6000, 3000, 2.5, 2700),
        _round(8000, 3200, 1.7, 2400),
    ]
    memory = {**MEMORY, "router+limits": {"idle_mb": 71, "after_mb": 76}}
    return summarize(rounds, memory, ARMS)


def test_additions_and_ratios_are_taken_within_each_round(summary: dict[str, Any]) -> None:
    router = summary["router"]
    assert router["max_rps"] == 3200
    # Per round: 0.4, 0.5, 0.4 of direct; the ratio of the medians would be 0.4 too, but
    # the added p50 shows the difference: per round +0.5, +1.5, +0.7, median +0.7.
    assert router["ratio_to_direct"] == pytest.approx(0.4)
    assert router["rates"]["50"]["added_p50"] == pytest.approx(0.7)
    assert router["rates"]["50"]["added_p99"] == pytest.approx(1.0)
    assert router["stream"]["ttft_added_p50"] == pytest.approx(0.4)
    assert router["rates"]["1000"]["overloaded"]
    assert router["rates"]["1000"]["errors"] == 21
    assert not router["rates"]["50"]["overloaded"]


def test_the_limits_arm_is_compared_with_the_router_within_each_round(
    summary: dict[str, Any],
) -> None:
    cost = summary["router+limits"]["vs_router"]
    # Per round 3000/3600, 2700/3000, 2400/3200: median 0.833 (the medians' ratio is 0.844).
    assert cost["rps_ratio"] == pytest.approx(3000 / 3600)
    assert cost["cpu_ratio"] == pytest.approx(1.2)
    assert cost["cpu_added_ms"] == pytest.approx(0.06)
    assert cost["redis_cpu_added_ms"] == pytest.approx(0.02)
    assert cost["rates"]["50"]["added_p50"] == pytest.approx(0.3)
    assert cost["rates"]["50"]["added_p99"] == pytest.approx(0.5)
    assert cost["ttft_added_p50"] == pytest.approx(0.2)
    assert cost["limiter_fallbacks"] == {"throughput": 1, "50": 0, "1000": 0, "stream": 0}
    assert "vs_router" not in summary["router"]


def test_targets_pass_and_fail_on_the_summary(summary: dict[str, Any]) -> None:
    verdicts = {check.metric: check.passed for check in evaluate(summary, chunks=20)}
    assert verdicts["sustained throughput"] is True
    assert verdicts["added latency at 50 req/s"] is True
    assert verdicts["added latency at 1,000 req/s"] is False  # overloaded
    assert verdicts["streaming chunks"] is True
    assert verdicts["memory idle"] is True
    assert verdicts["usage pipeline"] is None
    assert verdicts["throughput, all limits on vs off"] is True  # 0.83x ≥ 0.80x
    assert verdicts["CPU per request, all limits on vs off"] is True  # 1.20x ≤ 1.25x


def test_limits_costing_more_than_a_fifth_fail(summary: dict[str, Any]) -> None:
    summary["router+limits"]["vs_router"].update(rps_ratio=0.79, cpu_ratio=1.3)
    checks = {check.metric: check for check in evaluate(summary, chunks=20, limiter_fallbacks=2)}
    throughput = checks["throughput, all limits on vs off"]
    assert throughput.passed is False
    assert throughput.measured == (
        "0.79x (2,700 vs 3,200 req/s); 2 limiter fallbacks to memory (partly measured without "
        "Redis)"
    )
    assert checks["CPU per request, all limits on vs off"].passed is False


def test_without_the_limits_arm_its_checks_are_not_run() -> None:
    rounds = [_round(9000, 3600, 1.5), _round(6000, 3000, 2.5)]
    summary = summarize(rounds, MEMORY, ["direct", "router"])
    checks = {check.metric: check for check in evaluate(summary, chunks=20)}
    assert checks["throughput, all limits on vs off"].passed is None
    assert checks["throughput, all limits on vs off"].measured == "not run"


def test_merged_chunks_fail_the_streaming_check(summary: dict[str, Any]) -> None:
    summary["router"]["stream"]["token_arrivals"] = 12
    verdicts = {check.metric: check.passed for check in evaluate(summary, chunks=20)}
    assert verdicts["streaming chunks"] is False


def test_the_report_shows_the_table_the_targets_and_what_did_not_run(
    summary: dict[str, Any],
) -> None:
    meta = {
        "started": "2030-01-01 00:00:00 UTC",
        "facts": {"Machine": "2 cores", "Router parts": "auth ON"},
        "config": {"connections": 64, "stream_chunks": 20},
        "loadgen": {"throughput_tool": "wrk"},
        "not_run": {"litellm": "pass --litellm"},
    }
    rounds = [_round(9000, 3600, 1.5, 3000)]
    text = render(meta, summary, evaluate(summary, chunks=20), rounds)
    assert "| arm | max req/s (wrk c=64) | added p50 / p99 at 50 req/s |" in text
    assert (
        "| IAS router, limits off (client → router → engine) | 3,200 (0.40x direct) "
        "| +0.70 / +1.00 ms |" in text
    )
    assert (
        "| IAS router, all limits on (Redis) | 2,700 (0.33x direct, 0.83x router) "
        "| +1.00 / +1.50 ms |" in text
    )
    assert "| 0.360 ms (1.20x router) | 2.50 ms | 71 → 76 MB (same process) |" in text
    assert (
        "| throughput, all limits on vs off | ≥ 0.80x (within 20%) "
        "| 0.83x (2,700 vs 3,200 req/s) | pass |" in text
    )
    assert "### What all limits on cost (router+limits vs router)" in text
    assert "| router CPU per request | 0.300 ms | 0.360 ms | 1.20x, +0.060 ms |" in text
    assert "| p50 / p99 at 50 req/s | 1.70 / 3.00 ms | 2.00 / 3.50 ms | +0.30 / +0.50 ms |" in text
    assert (
        "| limiter fallbacks to memory (all rounds) | - | 1 "
        "| 1 in throughput, 0 at 50 req/s, 0 at 1,000 req/s, 0 in streams |" in text
    )
    assert "one arm overloaded" in text  # at 1,000 req/s: no latency difference to speak of
    assert "| 1 | direct → router → router+limits | 9,000 | 3,600 | 3,000 | 0.83x |" in text
    assert "overloaded (400 req/s got through" in text
    assert "| LiteLLM proxy, 1 worker | not run: pass --litellm |" in text
    assert "| sustained throughput | ≥ 3,000 req/s per core | 3,200 req/s | pass |" in text
    assert "**FAIL**" in text
    assert "- Router parts: auth ON" in text
