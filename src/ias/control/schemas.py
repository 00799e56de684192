"""Pieces every control-plane schema shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """Every request body refuses unknown fields, so a typo is an error and not a no-op."""

    model_config = ConfigDict(extra="forbid")


MICROS_PER_USD = 1_000_000


def usd(micros: int | None) -> float | None:
    return None if micros is None else micros / MICROS_PER_USD


def micros(dollars: float | None) -> int | None:
    return None if dollars is None else round(dollars * MICROS_PER_USD)
