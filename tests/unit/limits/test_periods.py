"""UTC calendar months, including year ends and leap days."""

from __future__ import annotations

import calendar

import pytest

from ias.limits.periods import month_end, month_of, month_start


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        ((2024, 2, 29, 23, 59, 59), "202402"),
        ((2024, 3, 1, 0, 0, 0), "202403"),
        ((2025, 12, 31, 23, 59, 59), "202512"),
        ((2026, 1, 1, 0, 0, 0), "202601"),
    ],
)
def test_month_of_a_utc_moment(moment: tuple[int, ...], month: str) -> None:
    assert month_of(calendar.timegm((*moment,))) == month


def test_month_bounds() -> None:
    assert month_start("202402") == calendar.timegm((2024, 2, 1, 0, 0, 0))
    assert month_end("202402") == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert month_end("202512") == calendar.timegm((2026, 1, 1, 0, 0, 0))
