"""How figures are written in the report: NaN (not measured) becomes a dash; tables."""

from __future__ import annotations

import math

DASH = "-"


def number(value: float, digits: int = 2, *, signed: bool = False, grouped: bool = False) -> str:
    if math.isnan(value):
        return DASH
    if grouped:
        return f"{value:,.0f}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
