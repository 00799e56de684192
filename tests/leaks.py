"""Looking for secrets where they must never appear: logs, responses, stored rows.

Shared by the log audit of `ias up` (tests/integration/observability/) and the audit of the
production-shaped stack (tests/e2e/test_security.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

REFRESH_COOKIE = re.compile(r"ias_refresh=([^;]+)")
# Shorter values would turn up by chance in unrelated text and prove nothing.
MIN_SECRET_LENGTH = 12


def refresh_token_of(response: httpx.Response) -> str:
    """The refresh token a login or a refresh set as its cookie."""
    match = REFRESH_COOKIE.search(response.headers.get("set-cookie", ""))
    assert match is not None, response.headers
    return match.group(1)


def find_secrets(
    places: Mapping[str, str], secrets: Mapping[str, str]
) -> dict[str, dict[str, int]]:
    """Each secret that occurs somewhere, with the places it occurs in and how often:
    {secret name: {place name: occurrences}}. Empty when nothing leaked."""
    for name, value in secrets.items():
        assert len(value) >= MIN_SECRET_LENGTH, f"{name} is too short to search for"
    found: dict[str, dict[str, int]] = {}
    for name, value in secrets.items():
        counts = {place: text.count(value) for place, text in places.items() if value in text}
        if counts:
            found[name] = counts
    return found
