"""Request and response bodies of `/api/admin/models` (the registry) and `/api/models` (catalog).

Prices are USD per million tokens on the wire and integer micro-dollars in the database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ias.control.schemas import StrictBody
from ias.models import ModelKind

MAX_NAME_LENGTH = 255
MAX_API_KEY_LENGTH = 4096
MAX_CONTEXT_LENGTH = 2**31 - 1  # the column is a 32-bit integer
MAX_PRICE_USD_PER_MTOK = 1_000_000.0
MAX_WEIGHT = 1000

INPUT_PRICE = "USD per million prompt tokens."
OUTPUT_PRICE = "USD per million completion tokens."
CACHED_PRICE = "USD per million cached prompt tokens; null bills them at the input price."


def _name(**default: Any) -> Any:
    return Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="The public name clients send as `model`: letters, digits and . _ : / -",
        examples=["llama-3.1-8b-instruct"],
        **default,
    )


def _upstream_model(**default: Any) -> Any:
    return Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="The model name the backends expect; never shown to clients.",
        examples=["meta-llama/Llama-3.1-8B-Instruct"],
        **default,
    )


def _context_length() -> Any:
    return Field(default=None, ge=1, le=MAX_CONTEXT_LENGTH, description="Tokens; null = unknown.")


def _price(description: str, **default: Any) -> Any:
    return Field(
        ge=0, le=MAX_PRICE_USD_PER_MTOK, allow_inf_nan=False, description=description, **default
    )


class ModelCreate(StrictBody):
    name: str = _name()
    kind: ModelKind
    upstream_model: str = _upstream_model()
    context_length: int | None = _context_length()
    input_price_per_mtok: float = _price(INPUT_PRICE)
    output_price_per_mtok: float = _price(OUTPUT_PRICE)
    cached_input_price_per_mtok: float | None = _price(CACHED_PRICE, default=None)
    enabled: bool = True


class ModelUpdate(StrictBody):
    """Any subset of the create fields; only `context_length` and the cached price take null."""

    name: str | None = _name(default=None)
    kind: ModelKind | None = None
    upstream_model: str | None = _upstream_model(default=None)
    context_length: int | None = _context_length()
    input_price_per_mtok: float | None = _price(INPUT_PRICE, default=None)
    output_price_per_mtok: float | None = _price(OUTPUT_PRICE, default=None)
    cached_input_price_per_mtok: float | None = _price(CACHED_PRICE, default=None)
    enabled: bool | None = None


class BackendCreate(StrictBody):
    url: str = Field(
        description="Base URL of an OpenAI-compatible server, with or without a trailing /v1.",
        examples=["http://10.0.0.5:8000/v1"],
    )
    api_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_API_KEY_LENGTH,
        description="Sent to the backend as a bearer token; stored encrypted, never shown again.",
    )
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT, description="Share of the traffic.")
    enabled: bool = True


class BackendUpdate(StrictBody):
    """Any subset; `api_key: null` removes the key, a string replaces it."""

    api_key: str | None = Field(default=None, min_length=1, max_length=MAX_API_KEY_LENGTH)
    weight: int | None = Field(default=None, ge=1, le=MAX_WEIGHT)
    enabled: bool | None = None


class BackendRead(BaseModel):
    id: uuid.UUID
    model_id: uuid.UUID
    url: str
    weight: int
    enabled: bool
    has_api_key: bool = Field(description="Whether a key is stored; the key itself never leaves.")
    created_at: datetime


class ModelRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: ModelKind
    upstream_model: str
    context_length: int | None
    input_price_per_mtok: float = Field(description=INPUT_PRICE)
    output_price_per_mtok: float = Field(description=OUTPUT_PRICE)
    cached_input_price_per_mtok: float | None = Field(description=CACHED_PRICE)
    enabled: bool
    backends: list[BackendRead]
    created_at: datetime
    updated_at: datetime


class CatalogPricing(BaseModel):
    input_per_mtok_usd: float
    output_per_mtok_usd: float
    cached_input_per_mtok_usd: float = Field(
        description="What cached prompt tokens cost; equals the input price unless set apart."
    )


class CatalogModel(BaseModel):
    id: str = Field(description="The name to send as `model`.")
    kind: ModelKind
    context_length: int | None
    pricing: CatalogPricing


class Catalog(BaseModel):
    data: list[CatalogModel]
