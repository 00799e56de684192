"""The router benchmark's own arithmetic and report, on made-up measurements.

The benchmark itself needs real servers and minutes of load (`python -m bench.router`); what
is checked here is that it computes and presents its figures correctly.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from bench.router import wrk
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


def _round(direct_rps: float, router_rps: float, router_p50: float) -> dict[str, Any]:
    return {
        "order": ["direct", "router"],
        "throughput": {
            "direct": {"rps": direct_rps, "errors": 0, "cpu_ms_per_request": 0.1},
            "router": {"rps": router_rps, "errors": 0, "cpu_ms_per_request": 0.3},
        },
        "rates": {
            "50": {"direct": _rate(1.0, 2.0, 50), "router": _rate(router_p50, 3.0, 50)},
            "1000": {"direct": _rate(0.8, 2.0, 1000), "router": _rate(900, 9000, 400, 7)},
        },
        "stream": {"direct": _stream(1.0), "router": _stream(1.4)},
    }


@pytest.fixture
def summary() -> dict[str, Any]:
    rounds = [_round(9000, 3600, 1.5), _round(6000, 3000, 2.5), _round(8000, 3200, 1.7)]
    memory = {"direct": {"idle_mb": 40, "after_mb": 42}, "router": {"idle_mb": 70, "after_mb": 75}}
    return summarize(rounds, memory, ["direct", "router"])


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


def test_targets_pass_and_fail_on_the_summary(summary: dict[str, Any]) -> None:
    verdicts = {check.metric: check.passed for check in evaluate(summary, chunks=20)}
    assert verdicts["sustained throughput"] is True
    assert verdicts["added latency at 50 req/s"] is True
    assert verdicts["added latency at 1,000 req/s"] is False  # overloaded
    assert verdicts["streaming chunks"] is True
    assert verdicts["memory idle"] is True
    assert verdicts["usage pipeline"] is None


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
    rounds = [_round(9000, 3600, 1.5)]
    text = render(meta, summary, evaluate(summary, chunks=20), rounds)
    assert "| arm | max req/s (wrk c=64) | added p50 / p99 at 50 req/s |" in text
    assert (
        "| IAS router (client → router → engine) | 3,200 (0.40x direct) | +0.70 / +1.00 ms |"
        in text
    )
    assert "overloaded (400 req/s got through" in text
    assert "| LiteLLM proxy, 1 worker | not run: pass --litellm |" in text
    assert "| sustained throughput | ≥ 3,000 req/s per core | 3,200 req/s | pass |" in text
    assert "**FAIL**" in text
    assert "- Router parts: auth ON" in text
