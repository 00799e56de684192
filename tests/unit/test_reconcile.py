"""Reconciliation's pure parts: `--since`, reading engine metrics, the window rule, drift."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ias.analytics.reconcile import (
    BackendReport,
    EngineCounters,
    MetricsFormatError,
    Scrape,
    SinceError,
    Target,
    Tokens,
    UnknownTarget,
    Verdict,
    assess,
    comparison_window,
    drift,
    group_targets,
    judge,
    metrics_url,
    parse_metrics,
    parse_since,
    percent,
    select_targets,
)
from ias.engine.metrics import EngineMetrics
from ias.models import Backend, ModelEntry, ModelKind

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)

VLLM_METRICS = """\
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="meta/llama-3-8b"} 1200.0
vllm:prompt_tokens_total{engine="1",model_name="meta/llama-3-8b"} 34.0
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="meta/llama-3-8b"} 560.0
vllm:generation_tokens_total{engine="1",model_name="meta/llama-3-8b"} 7.0
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta/llama-3-8b"} 2.0
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.7499e+09
"""


# --since


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01T00:00:00Z", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T02:30:00+02:00", datetime(2025, 6, 1, 0, 30, tzinfo=UTC)),
        ("2025-06-01 00:00:00.5Z", datetime(2025, 6, 1, 0, 0, 0, 500_000, tzinfo=UTC)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("90m", NOW - timedelta(minutes=90)),
        ("30s", NOW - timedelta(seconds=30)),
        ("2w", NOW - timedelta(weeks=2)),
    ],
)
def test_since_accepts_rfc3339_and_ages(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "24", "-3h", "7 days", "1y", "2025-06-01", ""])
def test_since_refuses_anything_else_naming_the_forms(text: str) -> None:
    with pytest.raises(SinceError, match=r"RFC 3339 timestamp with an offset.*24h"):
        parse_since(text, NOW)


def test_since_refuses_a_timestamp_without_an_offset() -> None:
    with pytest.raises(SinceError, match="with an offset"):
        parse_since("2025-06-01T00:00:00", NOW)


def test_since_refuses_the_future() -> None:
    with pytest.raises(SinceError, match="in the future"):
        parse_since("2025-06-16T00:00:00Z", NOW)


# Engine metrics


def test_counters_of_one_model_are_summed_across_other_labels() -> None:
    counters = parse_metrics(VLLM_METRICS)
    assert counters.tokens == {"meta/llama-3-8b": Tokens(1234, 567)}
    assert counters.process_started_at == datetime.fromtimestamp(1.7499e9, UTC)
    assert counters.started_at("meta/llama-3-8b") == counters.process_started_at


def test_the_built_in_engine_reads_like_vllm() -> None:
    before = time.time()
    metrics = EngineMetrics(["org/chat", "embed"])
    metrics.model("org/chat").prompt_tokens.inc(11)
    metrics.model("org/chat").generation_tokens.inc(5)
    counters = parse_metrics(metrics.render().decode())
    assert counters.tokens == {"org/chat": Tokens(11, 5), "embed": Tokens(0, 0)}
    started = counters.process_started_at
    assert started is not None
    assert before - 1 <= started.timestamp() <= time.time()


def test_counter_creation_time_stands_in_for_a_missing_process_start() -> None:
    text = """\
vllm:prompt_tokens_total{model_name="m"} 3.0
vllm:prompt_tokens_created{model_name="m"} 1.75e+09
vllm:generation_tokens_total{model_name="m"} 4.0
vllm:generation_tokens_created{model_name="m"} 1.7500001e+09
"""
    counters = parse_metrics(text)
    assert counters.process_started_at is None
    assert counters.started_at("m") == datetime.fromtimestamp(1.75e9, UTC)
    assert counters.started_at("other") is None


def test_a_model_with_only_one_counter_has_no_counts() -> None:
    counters = parse_metrics('vllm:prompt_tokens_total{model_name="m"} 3.0\n')
    assert counters.tokens == {}


def test_text_that_is_not_prometheus_is_refused() -> None:
    with pytest.raises(MetricsFormatError, match="not Prometheus text"):
        parse_metrics("<html>Sign in</html>\n")


# The window rule


def test_an_engine_started_after_since_is_compared_from_its_start() -> None:
    started = NOW - timedelta(hours=2)
    window = comparison_window(NOW - timedelta(days=1), started, NOW)
    assert (window.start, window.end, window.since_was_after_start) == (started, NOW, False)


def test_since_after_the_engine_start_moves_back_to_the_start_and_says_so() -> None:
    started = NOW - timedelta(days=3)
    window = comparison_window(NOW - timedelta(days=1), started, NOW)
    assert (window.start, window.since_was_after_start) == (started, True)
    report = judge(_target(), window, Tokens(1, 1), Tokens(1, 1), 0)
    assert report.reason is not None
    assert "cannot be cut at --since" in report.reason
    assert started.isoformat() in report.reason


def test_an_engine_clock_ahead_never_makes_an_empty_window() -> None:
    window = comparison_window(NOW - timedelta(days=1), NOW + timedelta(seconds=3), NOW)
    assert window.start == window.end == NOW


# Drift


def test_drift_is_engine_minus_ledger_with_a_share_of_the_engine_count() -> None:
    difference = drift(ledger=Tokens(100, 40), engine=Tokens(100, 50))
    assert (difference.prompt, difference.completion) == (0, 10)
    assert (difference.prompt_percent, difference.completion_percent) == (0.0, 20.0)
    negative = drift(ledger=Tokens(130, 50), engine=Tokens(100, 50))
    assert (negative.prompt, negative.prompt_percent) == (-30, -30.0)


def test_share_of_nothing_is_zero_or_unbounded() -> None:
    assert percent(0, 0) == 0.0
    assert percent(5, 0) is None
    assert percent(1, 3) == 33.33


@pytest.mark.parametrize(
    ("ledger", "tolerance", "verdict"),
    [
        (Tokens(100, 50), 0, Verdict.OK),
        (Tokens(100, 48), 0, Verdict.DRIFT),
        (Tokens(100, 48), 2, Verdict.OK),
        (Tokens(103, 50), 2, Verdict.DRIFT),
        (Tokens(98, 52), 2, Verdict.OK),
    ],
)
def test_tolerance_applies_to_each_counter_either_way(
    ledger: Tokens, tolerance: int, verdict: Verdict
) -> None:
    window = comparison_window(NOW, NOW - timedelta(hours=1), NOW)
    report = judge(_target(), window, ledger, Tokens(100, 50), tolerance)
    assert report.verdict is verdict


# Which engine series to check


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://gpu-1:8000", "http://gpu-1:8000/metrics"),
        ("http://gpu-1:8000/", "http://gpu-1:8000/metrics"),
        ("http://gpu-1:8000/v1", "http://gpu-1:8000/metrics"),
        ("http://gpu-1:8000/v1/", "http://gpu-1:8000/metrics"),
        ("http://127.0.0.1:8000/_engine", "http://127.0.0.1:8000/_engine/metrics"),
    ],
)
def test_metrics_sit_beside_v1(url: str, expected: str) -> None:
    assert metrics_url(url) == expected


def _model(name: str, upstream: str, enabled: bool = True) -> ModelEntry:
    return ModelEntry(
        id=uuid.uuid4(), name=name, kind=ModelKind.CHAT, upstream_model=upstream, enabled=enabled
    )


def _backend(model: ModelEntry, url: str, enabled: bool = True, key: str | None = None) -> Backend:
    return Backend(
        id=uuid.uuid4(), model_id=model.id, url=url, enabled=enabled, api_key_encrypted=key
    )


def test_backends_counted_by_one_engine_series_are_checked_together() -> None:
    chat, alias = _model("chat", "org/llm"), _model("chat-fast", "org/llm")
    embed = _model("embed", "org/embed")
    first = _backend(chat, "http://gpu-1:8000/v1")
    second = _backend(alias, "http://gpu-1:8000", key="sealed")
    third = _backend(embed, "http://gpu-1:8000/v1")
    targets = group_targets([(first, chat), (second, alias), (third, embed)])
    assert [(t.served_model, t.models) for t in targets] == [
        ("org/embed", ("embed",)),
        ("org/llm", ("chat", "chat-fast")),
    ]
    shared = targets[1]
    assert set(shared.backend_ids) == {first.id, second.id}
    assert shared.api_key_encrypted == "sealed"
    assert shared.metrics_url == "http://gpu-1:8000/metrics"


def test_disabled_backends_are_skipped_unless_named() -> None:
    live, gone = _model("live", "org/live"), _model("gone", "org/gone", enabled=False)
    kept = _backend(live, "http://gpu-1:8000")
    old = _backend(gone, "http://gpu-2:8000")
    targets = group_targets([(kept, live), (old, gone)])
    assert [t.models for t in select_targets(targets, None, None)] == [("live",)]
    assert [t.models for t in select_targets(targets, old.id, None)] == [("gone",)]
    assert [t.models for t in select_targets(targets, None, "org/live")] == [("live",)]


def test_filters_that_name_nothing_are_refused() -> None:
    live = _model("live", "org/live")
    targets = group_targets([(_backend(live, "http://gpu-1:8000"), live)])
    with pytest.raises(UnknownTarget, match="no backend has the id"):
        select_targets(targets, uuid.uuid4(), None)
    with pytest.raises(UnknownTarget, match="no enabled backend serves a model named 'nope'"):
        select_targets(targets, None, "nope")


# Verdicts before any ledger query


def _target(served: str = "m") -> Target:
    return Target("http://gpu-1:8000/metrics", served, ("public",), (uuid.uuid4(),), None, True)


def test_an_unreachable_engine_keeps_its_reason() -> None:
    scrape = Scrape(NOW, problem="http://gpu-1:8000/metrics answered HTTP 401")
    report = assess(_target(), NOW, scrape)
    assert isinstance(report, BackendReport)
    assert (report.verdict, report.reason) == (Verdict.UNREACHABLE, scrape.problem)


def test_an_engine_without_the_models_counters_has_no_counters() -> None:
    scrape = Scrape(NOW, EngineCounters({"other": Tokens(1, 1)}, NOW - timedelta(hours=1)))
    report = assess(_target("m"), NOW, scrape)
    assert isinstance(report, BackendReport)
    assert report.verdict is Verdict.NO_COUNTERS
    assert "model_name='m'" in (report.reason or "")


def test_an_engine_without_a_start_time_is_not_compared() -> None:
    scrape = Scrape(NOW, EngineCounters({"m": Tokens(1, 1)}))
    report = assess(_target("m"), NOW - timedelta(hours=1), scrape)
    assert isinstance(report, BackendReport)
    assert report.verdict is Verdict.NO_START_TIME
    assert "process_start_time_seconds" in (report.reason or "")


def test_a_readable_engine_gives_the_window_and_its_counts() -> None:
    started = NOW - timedelta(hours=5)
    scrape = Scrape(NOW, EngineCounters({"m": Tokens(7, 3)}, started))
    assessed = assess(_target("m"), NOW - timedelta(hours=1), scrape)
    assert not isinstance(assessed, BackendReport)
    window, engine = assessed
    assert (window.start, window.end, window.since_was_after_start) == (started, NOW, True)
    assert engine == Tokens(7, 3)


def test_a_start_time_no_clock_can_hold_is_no_start_time() -> None:
    counters = parse_metrics(
        'vllm:prompt_tokens_total{model_name="m"} 3.0\n'
        'vllm:generation_tokens_total{model_name="m"} 4.0\n'
        "process_start_time_seconds NaN\n"
    )
    assert counters.tokens == {"m": Tokens(3, 4)}
    assert counters.started_at("m") is None
