from __future__ import annotations

import random
import re
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ias.router.state import RouterState


def state(secret: bytes = b"salt-secret") -> RouterState:
    unused: Any = None  # cache_salt needs only the secret
    return RouterState(
        keys=unused,
        catalog=unused,
        limiter=unused,
        sink=unused,
        last_used=unused,
        timeouts=unused,
        max_body_bytes=1024,
        body_read_seconds=1.0,
        salt_secret=secret,
        rng=random.Random(0),
    )


def test_salt_is_32_hex_characters() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", state().cache_salt(uuid.uuid4()))


def test_salt_is_stable_for_an_org_across_calls_and_processes() -> None:
    org = uuid.uuid4()
    first = state()
    assert first.cache_salt(org) == first.cache_salt(org) == state().cache_salt(org)


def test_salt_differs_between_orgs() -> None:
    router = state()
    salts = {router.cache_salt(uuid.uuid4()) for _ in range(1_000)}
    assert len(salts) == 1_000


def test_salt_depends_on_the_secret() -> None:
    org = uuid.uuid4()
    assert state(b"one secret").cache_salt(org) != state(b"another secret").cache_salt(org)


def test_salt_does_not_reveal_the_org() -> None:
    org = uuid.uuid4()
    salt = state().cache_salt(org)
    assert org.hex[:32] != salt
    assert org.hex not in salt


@given(st.uuids(), st.uuids(), st.binary(min_size=1, max_size=64))
def test_two_orgs_never_share_a_salt(first: uuid.UUID, second: uuid.UUID, secret: bytes) -> None:
    router = state(secret)
    if first != second:
        assert router.cache_salt(first) != router.cache_salt(second)
    assert re.fullmatch(r"[0-9a-f]{32}", router.cache_salt(first))
