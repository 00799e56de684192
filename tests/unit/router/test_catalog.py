from __future__ import annotations

import uuid

import pytest

from ias.contracts.usage import Prices
from ias.models import ModelKind
from ias.router.catalog import Route, base_url
from ias.router.prober import health_url

ENDPOINTS = ("chat/completions", "completions", "embeddings")


def route(kind: ModelKind) -> Route:
    return Route(
        model_id=uuid.uuid4(),
        name="m",
        kind=kind,
        upstream_model="m",
        context_length=None,
        prices=Prices(0, 0),
        created=0,
        backends=(),
    )


@pytest.mark.parametrize(
    ("kind", "served"),
    [
        (ModelKind.CHAT, {"chat/completions", "completions"}),
        (ModelKind.COMPLETION, {"completions"}),
        (ModelKind.EMBEDDING, {"embeddings"}),
    ],
)
def test_each_kind_of_model_serves_only_its_endpoints(kind: ModelKind, served: set[str]) -> None:
    assert {endpoint for endpoint in ENDPOINTS if route(kind).serves(endpoint)} == served


@pytest.mark.parametrize("kind", list(ModelKind))
@pytest.mark.parametrize("endpoint", ["models", "chat", "", "audio/transcriptions"])
def test_no_model_serves_an_unknown_endpoint(kind: ModelKind, endpoint: str) -> None:
    assert not route(kind).serves(endpoint)


@pytest.mark.parametrize(
    ("registered", "expected"),
    [
        ("http://gpu-1:8000", "http://gpu-1:8000/v1"),
        ("http://gpu-1:8000/", "http://gpu-1:8000/v1"),
        ("http://gpu-1:8000/v1", "http://gpu-1:8000/v1"),
        ("http://gpu-1:8000/v1/", "http://gpu-1:8000/v1"),
        ("http://gpu-1:8000/v1//", "http://gpu-1:8000/v1"),
        ("https://proxy.example/llama", "https://proxy.example/llama/v1"),
        ("https://proxy.example/llama/v1", "https://proxy.example/llama/v1"),
        ("http://host/v10", "http://host/v10/v1"),
    ],
)
def test_backend_url_always_ends_in_v1_once(registered: str, expected: str) -> None:
    assert base_url(registered) == expected
    assert base_url(base_url(registered)) == expected


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://gpu-1:8000/v1", "http://gpu-1:8000/health"),
        ("https://proxy.example/llama/v1", "https://proxy.example/llama/health"),
    ],
)
def test_health_is_probed_beside_v1_not_under_it(base: str, expected: str) -> None:
    assert health_url(base) == expected


@pytest.mark.parametrize("registered", ["http://gpu-1:8000", "http://gpu-1:8000/v1/"])
def test_health_url_of_any_registered_form(registered: str) -> None:
    assert health_url(base_url(registered)) == "http://gpu-1:8000/health"
