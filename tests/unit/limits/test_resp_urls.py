"""Redis URLs the limiter's client accepts, and the ones it refuses with a clear reason."""

from __future__ import annotations

import pytest

from ias.limits.resp import Address, PipelinedRedis, parse_url


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6379/0", Address()),
        ("redis://cache", Address(host="cache")),
        ("redis://cache:6380/3", Address(host="cache", port=6380, db=3)),
        ("redis://:s%40cret@cache", Address(host="cache", password="s@cret")),
        ("redis://ias:pw@cache/1", Address(host="cache", db=1, username="ias", password="pw")),
        ("rediss://cache", Address(host="cache", tls=True)),
        ("redis://[::1]:7000", Address(host="::1", port=7000)),
        ("unix:///run/redis.sock", Address(host="", port=0, path="/run/redis.sock")),
        ("unix:///run/redis.sock?db=2", Address(host="", port=0, path="/run/redis.sock", db=2)),
    ],
)
def test_urls_are_read_like_redis_clients_read_them(url: str, address: Address) -> None:
    assert parse_url(url) == address


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://cache", "starts with redis://"),
        ("cache:6379", "starts with redis://"),
        ("redis://cache:port", "port"),
        ("redis://cache/zero", "database"),
        ("unix://", "socket path"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_url(url)


def test_the_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PipelinedRedis(Address(), timeout_seconds=0)
