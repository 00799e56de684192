"""Which backend URLs the registry accepts, how it writes them, and what it tells you when not."""

from __future__ import annotations

import pytest

from ias.control.registry.service import check_model_name
from ias.control.registry.urls import normalise_backend_url
from ias.errors import InvalidRequest


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("http://10.0.0.5:8000", "http://10.0.0.5:8000"),
        ("https://gpu.example.com/v1/", "https://gpu.example.com/v1"),
        ("https://gpu.example.com/v1", "https://gpu.example.com/v1"),
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000"),
        ("  http://vllm:8000/v1//  ", "http://vllm:8000/v1"),
        ("HTTPS://GPU.Example.COM/V1", "https://gpu.example.com/V1"),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("http://vllm_server:8000", "http://vllm_server:8000"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_good_urls_are_normalised(given: str, stored: str) -> None:
    assert normalise_backend_url(given) == stored


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("ftp://x", "not 'ftp'"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("not a url", "spaces"),
        ("notaurl", "must start with http:// or https://"),
        ("localhost:8000", "must start with http:// or https://"),
        ("http://", "must name a host"),
        ("http:///v1", "must name a host"),
        ("http://user:pass@host", "api_key field"),
        ("http://token@host", "api_key field"),
        ("http://host/?q=1", "query string"),
        ("http://host/v1?", "query string"),
        ("http://host/v1#frag", "fragment"),
        ("http://host:99999", "port"),
        ("http://host:0", "port"),
        ("http://host:abc", "port"),
        ("http://bad..host", "not a valid host name"),
        ("http://ho$t", "not a valid host name"),
        ("http://[zz::1]", "IPv6"),
        ("http://host/v1/chat/completions", "base URL"),
        ("", "base URL"),
        ("http://host/\x00", "control characters"),
        ("http://host/" + "a" * 2048, "2048"),
    ],
)
def test_bad_urls_say_what_is_wrong(given: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalise_backend_url(given)
    assert says in caught.value.message
    assert caught.value.param == "url"
    assert caught.value.status == 400


def test_credentials_are_never_echoed() -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalise_backend_url("https://admin:hunter2hunter2@gpu.example.com/v1")
    assert "hunter2" not in caught.value.message


@pytest.mark.parametrize(
    "name", ["llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", "org:model_v2", "a" * 255]
)
def test_good_model_names(name: str) -> None:
    assert check_model_name(name) == name


@pytest.mark.parametrize("name", ["", "has space", "ünï", "semi;colon", "a" * 256, "new\nline"])
def test_bad_model_names(name: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_model_name(name)
    assert caught.value.param == "name"
