"""Decisions rendered as OpenAI does: header names, Go-style durations, 429 codes and wording."""

from __future__ import annotations

import pytest

from ias.errors import QuotaExceeded, RateLimited
from ias.limits import Decision, Kind, Limit, RateState, format_reset, rate_limit_headers, refusal
from ias.limits.headers import describe


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.02, "20ms"),
        (0.0004, "0s"),
        (0.999, "999ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (17.326, "17.326s"),
        (59.9999, "1m0s"),
        (360, "6m0s"),
        (396.96, "6m36.96s"),
        (3600, "1h0m0s"),
        (90061.5, "25h1m1.5s"),
        (-3, "0s"),
    ],
)
def test_reset_durations_read_like_openais(seconds: float, text: str) -> None:
    assert format_reset(seconds) == text


def _refused(limit: Limit, *, used: int, requested: int, retry: float) -> Decision:
    return Decision(
        admitted=False,
        refused_by=limit,
        retry_after_seconds=retry,
        requests=RateState(60, 0, retry),
        tokens=RateState(10_000, 1_000, retry),
        ticket=None,
        used=used,
        requested=requested,
    )


def test_admitted_decisions_carry_both_header_families_and_no_retry_after() -> None:
    decision = Decision(True, None, 0.0, RateState(60, 59, 0.5), RateState(1000, 700, 59.5), None)
    assert rate_limit_headers(decision) == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "500ms",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "700",
        "x-ratelimit-reset-tokens": "59.5s",
    }


def test_headers_are_left_out_for_limits_that_do_not_apply() -> None:
    decision = Decision(True, None, 0.0, None, None, None)
    assert rate_limit_headers(decision) == {}


@pytest.mark.parametrize(("retry", "header"), [(0.001, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds_and_at_least_one(retry: float, header: str) -> None:
    decision = _refused(Limit("key:k", Kind.REQUESTS, 60), used=60, requested=1, retry=retry)
    assert rate_limit_headers(decision)["retry-after"] == header


def test_a_requests_refusal_is_rate_limit_exceeded_with_openais_wording() -> None:
    decision = _refused(Limit("key:abc", Kind.REQUESTS, 60), used=60, requested=1, retry=2.25)
    error = refusal(decision)
    assert isinstance(error, RateLimited)
    assert (error.status, error.type, error.code) == (
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
    )
    assert error.message == (
        "Rate limit reached for API key abc on requests per min (RPM): Limit 60, Used 60, "
        "Requested 1. Please try again in 2.25s."
    )
    assert error.headers["retry-after"] == "3"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"


def test_a_tokens_refusal_names_the_model_scope() -> None:
    limit = Limit("org:o1:model:llama-3:8b", Kind.TOKENS, 10_000)
    error = refusal(_refused(limit, used=9_000, requested=1_500, retry=30))
    assert error.message.startswith(
        "Rate limit reached for model llama-3:8b in organization o1 on tokens per min (TPM): "
        "Limit 10000, Used 9000, Requested 1500."
    )


def test_a_reservation_larger_than_the_tpm_limit_says_so() -> None:
    limit = Limit("org:o1", Kind.TOKENS, 1_000)
    error = refusal(_refused(limit, used=0, requested=4_000, retry=30))
    assert isinstance(error, RateLimited)
    assert "Request too large for organization o1 on tokens per min (TPM)" in error.message
    assert "Limit 1000, Requested 4000" in error.message
    assert "must be reduced" in error.message


def test_a_concurrency_refusal_suggests_a_short_wait() -> None:
    error = refusal(_refused(Limit("org:o", Kind.CONCURRENCY, 4), used=4, requested=1, retry=1))
    assert isinstance(error, RateLimited)
    assert error.message == (
        "Too many concurrent requests for organization o: Limit 4. Please try again in 1s."
    )


def test_monthly_token_quota_is_insufficient_quota() -> None:
    limit = Limit("org:o", Kind.MONTHLY_TOKENS, 1_000_000)
    error = refusal(_refused(limit, used=999_000, requested=2_000, retry=86_400))
    assert isinstance(error, QuotaExceeded)
    assert (error.status, error.type, error.code) == (
        429,
        "insufficient_quota",
        "insufficient_quota",
    )
    assert error.message.startswith("You exceeded your current quota, please check your plan")
    assert "used 999,000 of its 1,000,000 tokens this month" in error.message
    assert error.headers["retry-after"] == "86400"


def test_monthly_budget_is_written_in_dollars() -> None:
    limit = Limit("org:o", Kind.MONTHLY_MICROS, 25_000_000)
    error = refusal(_refused(limit, used=24_990_000, requested=15, retry=10))
    assert isinstance(error, QuotaExceeded)
    assert "spent $24.99 of its $25.00 monthly budget" in error.message
    assert "reserves $0.000015 more" in error.message


def test_only_a_refusal_can_be_rendered_as_one() -> None:
    with pytest.raises(ValueError, match="only a refused decision"):
        refusal(Decision(True, None, 0.0, None, None, None))


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        ("key:k1", "API key k1"),
        ("org:o1", "organization o1"),
        ("org:o1:model:m", "model m in organization o1"),
        ("team:t", "team:t"),
    ],
)
def test_scopes_in_words(scope: str, words: str) -> None:
    assert describe(scope) == words
