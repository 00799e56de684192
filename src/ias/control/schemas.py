"""Pieces every control-plane schema and endpoint shares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store U+0000 in text; refuse it at the edge rather than fail later.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (\\u0000)")
    return text


def _walk_for_nul(value: Any) -> None:
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_for_nul(key)
            _walk_for_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk_for_nul(item)


class StrictBody(BaseModel):
    """Every request body refuses unknown fields (a typo is an error, not a no-op) and NULs."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _walk_for_nul(data)
        return data


Text = Annotated[str, AfterValidator(_no_nul)]

CursorQuery = Annotated[
    Text | None,
    Query(max_length=200, description="The `next_cursor` of the previous page."),
]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="Rows per page.")]
SearchQuery = Annotated[
    Text | None, Query(max_length=200, description="Case-insensitive substring to look for.")
]

MICROS_PER_USD = 1_000_000


def usd(micros: int | None) -> float | None:
    return None if micros is None else micros / MICROS_PER_USD


def micros(dollars: float | None) -> int | None:
    return None if dollars is None else round(dollars * MICROS_PER_USD)
