"""Bad limits and admissions fail where they are built, with a message that names the problem."""

from __future__ import annotations

import pytest

from ias.limits import MAX_AMOUNT, Admission, Kind, Limit


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "between 1 and"),
        (-5, "got -5"),
        (MAX_AMOUNT + 1, "between 1 and 1,000,000,000,000,000"),
        (10**30, "between 1 and"),
        (2.5, "must be an integer"),
        ("100", "must be an integer"),
        (True, "must be an integer"),
        (None, "must be an integer"),
    ],
)
def test_a_limit_must_be_a_sane_positive_integer(value: object, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        Limit("key:k", Kind.REQUESTS, value)  # type: ignore[arg-type]
    assert "requests limit of key:k" in str(caught.value)


def test_the_largest_limit_is_accepted() -> None:
    assert Limit("org:o", Kind.MONTHLY_MICROS, MAX_AMOUNT).limit == MAX_AMOUNT


@pytest.mark.parametrize("scope", ["", "key: k", "key:\nk", None])
def test_a_scope_must_be_plain_text(scope: object) -> None:
    with pytest.raises(ValueError, match="scope"):
        Limit(scope, Kind.REQUESTS, 1)  # type: ignore[arg-type]


def test_kinds_are_checked_and_accepted_by_name() -> None:
    assert Limit("key:k", "tokens", 5).kind is Kind.TOKENS  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown limit kind 'tokens_per_day'; expected one of"):
        Limit("key:k", "tokens_per_day", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tokens", "cost", "words"),
    [
        (-1, 0, "tokens to reserve must be between 0 and"),
        (0, -1, "cost to reserve"),
        (MAX_AMOUNT + 1, 0, "tokens to reserve"),
    ],
)
def test_an_admission_reserves_sane_amounts(tokens: int, cost: int, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Admission("lease", (), tokens, cost)


def test_an_admission_needs_a_lease_id_and_one_limit_per_counter() -> None:
    with pytest.raises(ValueError, match="lease id"):
        Admission("", (), 0, 0)
    twice = (Limit("key:k", Kind.REQUESTS, 5), Limit("key:k", Kind.REQUESTS, 9))
    with pytest.raises(ValueError, match="one limit per scope and kind"):
        Admission("lease", twice, 0, 0)


def test_limits_given_as_a_list_become_a_tuple() -> None:
    admission = Admission("lease", [Limit("key:k", Kind.REQUESTS, 5)], 0, 0)  # type: ignore[arg-type]
    assert isinstance(admission.limits, tuple)
