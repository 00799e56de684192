"""The router benchmark's own arithmetic and report, on made-up measurements.

The benchmark itself needs real servers and minutes of load (`python -m bench.router`); what
is checked here is that it computes and presents its figures correctly.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.router import fdlimit, offline, wrk
from bench.router.comparison import comparison_table
from bench.router.logs import fallback_causes
from bench.router.machine import command as machine_command
from bench.router.machine import relative
from bench.router.memory import engine_busy, per_thousand_mb
from bench.router.procstat import parse_rss_kib, parse_stat
from bench.router.report import render
from bench.router.results import render as render_results
from bench.router.sse import split_events, token_event
from bench.router.stats import gaps, median, percentile
from bench.router.summary import quotient, summarize
from bench.router.targets import Check, evaluate, open_streams_check


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


# --- Memory per 1,000 open streams, the LiteLLM comparison, bench/RESULTS.md ---------------


def test_memory_per_thousand_streams_scales_the_growth_to_a_thousand() -> None:
    assert per_thousand_mb(idle_mb=70.0, open_mb=82.5, streams=1000) == pytest.approx(12.5)
    assert per_thousand_mb(idle_mb=70.0, open_mb=75.0, streams=250) == pytest.approx(20.0)
    assert math.isnan(per_thousand_mb(idle_mb=70.0, open_mb=70.0, streams=0))


def test_the_engine_is_busy_while_it_runs_or_queues_requests() -> None:
    metrics = (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        'vllm:num_requests_running{model_name="bench-chat"} 998.0\n'
        'vllm:num_requests_waiting{model_name="bench-chat"} 2.0\n'
        'vllm:num_requests_running{model_name="other"} 0.0\n'
        'vllm:prompt_tokens_total{model_name="bench-chat"} 5.0\n'
    )
    assert engine_busy(metrics) == 1000
    assert engine_busy('vllm:num_requests_running{model_name="bench-chat"} 0.0\n') == 0


def test_a_proxy_needs_two_descriptors_per_open_stream() -> None:
    assert fdlimit.needed(1000) == 2000 + fdlimit.SPARE


def test_sse_events_are_split_and_token_chunks_told_from_the_rest() -> None:
    events, rest = split_events(b'data: {"choices":[{"delta":{"role":"as', b'sistant"}}]}\n\nda')
    assert events == [b'data: {"choices":[{"delta":{"role":"assistant"}}]}']
    assert rest == b"da"
    assert not token_event(events[0])
    assert token_event(b'data: {"choices":[{"delta":{"content":"Hi"}}]}')
    assert not token_event(b"data: [DONE]")


def test_an_strace_log_tells_loopback_from_the_network() -> None:
    log = "\n".join(
        [
            '10 execve("/usr/bin/taskset", ["taskset"], 0x1 /* 4 vars */) = 0',
            '10 execve("/venv/bin/litellm", ["litellm"], 0x1 /* 4 vars */) = 0',
            '11 execve("/opt/bin/uname", ["uname", "-p"], 0x1 /* 4 vars */) = -1 ENOENT',
            '11 execve("/usr/bin/uname", ["uname", "-p"], 0x1 /* 4 vars */) = 0',
            "10 connect(17, {sa_family=AF_INET, sin_port=htons(8001), "
            'sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS',
            "10 connect(18, {sa_family=AF_INET6, sin6_port=htons(8001), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            '10 connect(3, {sa_family=AF_UNIX, sun_path="/tmp/.s.PGSQL.5432"}, 110) = 0',
        ]
    )
    clean = offline.parse(log)
    assert clean.connects == 3
    assert clean.attempts == []
    assert clean.programs == ["taskset", "litellm", "uname"]
    dirty = offline.parse(
        "\n".join(
            [
                '12 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1',
                "12 connect(6, {sa_family=AF_INET, sin_port=htons(53), "
                'sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
                "12 connect(7, {sa_family=AF_INET, sin_port=htons(443), "
                'sin_addr=inet_addr("203.0.113.9")}, 16) = -1 ENETUNREACH',
            ]
        )
    )
    assert len(dirty.attempts) == 3
    assert dirty.attempts[2].startswith("connect(7, {sa_family=AF_INET, sin_port=htons(443)")


def test_paths_inside_the_checkout_are_written_relative_to_it(tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    assert relative(str(repo / ".venv-litellm" / "bin"), repo) == ".venv-litellm/bin"
    assert relative(".venv-litellm/bin", repo) == ".venv-litellm/bin"
    assert relative("--rounds", repo) == "--rounds"
    assert machine_command(["--rounds", "1", "--results-md", "bench/RESULTS.md"]) == (
        "python -m bench.router --rounds 1 --results-md bench/RESULTS.md"
    )


def _held(idle_mb: float, open_mb: float, opened: int = 1000, lingering: float = 0.0) -> Any:
    return {
        "streams": 1000,
        "opened": opened,
        "failed": 1000 - opened,
        "ended_while_held": 0,
        "seconds_to_open": 1.5,
        "idle_mb": idle_mb,
        "open_mb": open_mb,
        "mb_per_1000": per_thousand_mb(idle_mb, open_mb, opened),
        "complete": opened == 1000,
        "engine_busy_after_close_s": lingering,
    }


OPEN_STREAMS = {
    "direct": _held(40, 55),
    "router": _held(70, 100),
    "router+limits": _held(71, 102),
    "litellm": _held(260, 400, lingering=39.5),
}


def _idle(p50: float, p99: float) -> dict[str, Any]:
    return {"latency_ms": {"p50": p50, "p99": p99}, "errors": 0}


def _with_litellm(round_: dict[str, Any], litellm_rps: float) -> dict[str, Any]:
    """The round with its idle phase and a LiteLLM arm: slower, and overloaded at 1,000 req/s."""
    round_["order"].append("litellm")
    round_["idle"] = {
        "direct": _idle(0.5, 1.0),
        "router": _idle(0.9, 1.6),
        "router+limits": _idle(1.1, 1.9),
        "litellm": _idle(6.5, 11.0),
    }
    round_["throughput"]["litellm"] = {
        "rps": litellm_rps,
        "errors": 0,
        "cpu_ms_per_request": 5.0,
        "redis_cpu_ms_per_request": 0.001,
    }
    round_["rates"]["50"]["litellm"] = _rate(9.0, 12.0, 50)
    round_["rates"]["1000"]["litellm"] = _rate(4000, 9000, 170)
    round_["stream"]["litellm"] = {**_stream(7.0), "cpu_ms_per_stream": 25.0}
    return round_


@pytest.fixture
def results() -> dict[str, Any]:
    """A run's JSON as `python -m bench.router --litellm …` writes it (checks as dicts)."""
    rounds = [
        _with_litellm(_round(9000, 3600, 1.5, 3000), 180),
        _with_litellm(_round(6000, 3000, 2.5, 2700), 200),
        _with_litellm(_round(8000, 3200, 1.7, 2400), 160),
    ]
    memory = {
        **MEMORY,
        "router+limits": {"idle_mb": 71, "after_mb": 76},
        "litellm": {"idle_mb": 260, "after_mb": 280},
    }
    summary = summarize(rounds, memory, [*ARMS, "litellm"], OPEN_STREAMS)
    meta = {
        "started": "2030-01-01 00:00:00 UTC",
        "command": "python -m bench.router --litellm .venv-litellm/bin --results-md "
        "bench/RESULTS.md",
        "machine": {
            "cpu_model": "Example CPU",
            "cores": 2,
            "ram_gib": 23.5,
            "kernel": "Linux 6.1.0",
            "python": "CPython 3.11.7",
            "load_average": "1.00, 0.50, 0.20",
            "pinning": "router on core 0; mock engine and load generators on core 1",
            "wrk": "wrk debian/4.1.0-3+b2",
            "litellm": "1.80.5",
            "litellm_offline": "checked with strace",
        },
        "facts": {"Router": "`ias serve router`, commit abc1234"},
        "config": {"connections": 64, "stream_chunks": 20},
        "loadgen": {"throughput_tool": "wrk"},
        "not_run": {},
    }
    checks = [asdict(check) for check in evaluate(summary, chunks=20)]
    return {"meta": meta, "summary": summary, "checks": checks, "rounds": rounds}


def test_each_router_arm_is_compared_with_litellm(results: dict[str, Any]) -> None:
    summary = results["summary"]
    vs = summary["router"]["vs_litellm"]
    # Within each round: 3600/180, 3000/200, 3200/160 -> median 20 (the medians give 18.8).
    assert vs["rps_ratio"] == pytest.approx(20)
    assert vs["cpu_ratio"] == pytest.approx(0.3 / 5)
    assert vs["cpu_stream_ratio"] == pytest.approx(2.5 / 25)
    assert summary["router"]["idle"]["added_p50"] == pytest.approx(0.4)
    assert summary["litellm"]["idle"]["added_p50"] == pytest.approx(6.0)
    assert vs["idle"]["p50"] == pytest.approx(0.4 / 6.0)
    assert vs["idle"]["p99"] == pytest.approx(0.6 / 10.0)
    assert vs["rates"]["50"]["p50"] == pytest.approx(0.7 / 8.0)
    assert vs["rates"]["1000"]["overloaded"] is True
    assert vs["ttft_added_ratio"] == pytest.approx(0.4 / 6.0)
    assert vs["rss_ratio"] == pytest.approx(70 / 260)
    assert vs["open_streams_ratio"] == pytest.approx(30 / 140)
    assert "vs_litellm" in summary["router+limits"]
    assert "vs_litellm" not in summary["direct"]
    assert "vs_litellm" not in summary["litellm"]


def test_nothing_to_divide_by_is_not_a_ratio() -> None:
    assert quotient(1.0, 4.0) == 0.25
    assert math.isnan(quotient(1.0, 0.0))
    assert math.isnan(quotient(1.0, -0.5))  # LiteLLM "faster" than direct: noise
    assert math.isnan(quotient(math.nan, 2.0))


def test_memory_per_thousand_open_streams_is_checked_against_40_mb(
    results: dict[str, Any],
) -> None:
    checks = {check["metric"]: check for check in results["checks"]}
    memory = checks["memory per 1,000 open streams"]
    assert memory["passed"] is True
    assert memory["measured"] == "30.0 MB (70 → 100 MB with 1,000 streams open)"
    assert checks["throughput vs LiteLLM"]["measured"] == "20.0x (3,200 vs 180 req/s)"
    assert open_streams_check(_held(70, 115)).passed is False  # 45 MB
    partial = open_streams_check(_held(70, 80, opened=600))
    assert partial.passed is False
    assert "only 600 of 1,000 opened" in partial.measured
    assert open_streams_check(None).measured == "not run"


def test_the_comparison_table_puts_direct_the_router_and_litellm_side_by_side(
    results: dict[str, Any],
) -> None:
    text = comparison_table(results["summary"], results["meta"])
    assert text.splitlines()[0] == (
        "|  | direct | IAS router, limits off | IAS router, all limits on | LiteLLM 1.80.5 "
        "| IAS router, limits off ÷ LiteLLM | IAS router, all limits on ÷ LiteLLM |"
    )
    assert "| max req/s (wrk c=64) | 8,000 | 3,200 | 2,700 | 180 | 20.00x | 15.00x |" in text
    assert (
        "| latency p50 / p99, idle (one request at a time; direct absolute, others added) "
        "| 0.50 / 1.00 ms | +0.40 / +0.60 ms | +0.60 / +0.90 ms | +6.00 / +10.00 ms "
        "| 0.07x / 0.06x | 0.10x / 0.09x |" in text
    )
    assert "overloaded (170 req/s got through, p99 9.00 s) | an arm overloaded |" in text
    assert (
        "| memory per 1,000 open streams | 15.0 MB (engine) | 30.0 MB | 31.0 MB | 140.0 MB "
        "| 0.21x | 0.22x |" in text
    )


def test_without_litellm_the_comparison_says_it_did_not_run(summary: dict[str, Any]) -> None:
    meta = {
        "config": {"connections": 64, "stream_chunks": 20},
        "loadgen": {"throughput_tool": "wrk"},
        "not_run": {"litellm": "pass --litellm"},
    }
    text = comparison_table(summary, meta)
    assert "| max req/s (wrk c=64) | 8,000 | 3,200 | 2,700 | not run: pass --litellm |" in text
    assert "÷ LiteLLM" not in text
    assert "| memory per 1,000 open streams | not run | not run | not run | not run |" in text


def test_results_md_is_rendered_from_the_runs_json(results: dict[str, Any]) -> None:
    text = render_results(orjson.loads(orjson.dumps(results)))  # as read back from the file
    assert text.startswith("# Router benchmark results: direct vs IAS router vs LiteLLM\n")
    assert "- Date: 2030-01-01 00:00:00 UTC" in text
    assert (
        "- Command: `python -m bench.router --litellm .venv-litellm/bin --results-md "
        "bench/RESULTS.md`" in text
    )
    assert "- CPU: Example CPU, 2 cores" in text
    assert "- LiteLLM: 1.80.5 (requirements/litellm.lock, its own virtualenv)" in text
    assert "- wrk: wrk debian/4.1.0-3+b2" in text
    assert "| max req/s (wrk c=64) | 8,000 | 3,200 | 2,700 | 180 | 20.00x | 15.00x |" in text
    assert (
        "- **Throughput**: the router with limits off served 20.00x LiteLLM's requests per "
        "second (3,200 vs 180 req/s), 15.00x with every limit on; the target is at least 16x."
        in text
    )
    assert "- **At 1,000 req/s** the router was overloaded too." in text
    assert "30.0 vs 140.0 MB more per 1,000 open streams (4.7x less)" in text
    assert "LiteLLM kept its upstream streams running for 40 s" in text
    assert "| memory per 1,000 open streams | ≤ 40 MB |" in text


def test_the_report_has_the_comparison_and_the_open_streams_details(
    results: dict[str, Any],
) -> None:
    checks = [Check(**check) for check in results["checks"]]
    text = render(results["meta"], results["summary"], checks, results["rounds"])
    assert "## Direct vs IAS router vs LiteLLM" in text
    assert "| router | 1,000 of 1,000 | 0 / 0 | 1.5 | 70 → 100 | 30.0 | 0.0 |" in text
    assert "| litellm | 1,000 of 1,000 | 0 / 0 | 1.5 | 260 → 400 | 140.0 | 39.5 |" in text
    assert "| router | 0.90 | 1.60 | +0.40 / +0.60 | 0 |" in text
    assert "| 2.50 ms | 70 → 75 MB | 30.0 MB |" in text  # the main table's new last column
