"""OpenAPI-driven fuzzing of `/api` with a super admin's token.

Schemathesis generates requests from the control plane's own OpenAPI document (valid and
invalid bodies, odd path and query values). Whatever it sends, the API must never answer 5xx,
and every response must match the status codes, content types and schemas it documents.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ias.app import create_app
from ias.control.context import build_control_context
from ias.kit.db import Database
from ias.kit.notify import MemoryNotifier
from ias.kit.throttle import MemoryThrottle
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.conftest import REDIS_URL
from tests.integration.control.conftest import WorldBuilder

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_settings(control_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home: Path = tmp_path_factory.mktemp("fuzz-home")
    return resolve_secrets(
        Settings(
            home=home,
            database_url=control_database_url,
            redis_url=REDIS_URL,
            redis_key_prefix=f"fuzz-{uuid.uuid4().hex[:8]}:",
        )
    )


@pytest.fixture(scope="module")
def super_admin_headers(fuzz_settings: Settings, password_hash: str) -> dict[str, str]:
    async def make() -> dict[str, str]:
        db = Database.from_url(fuzz_settings.effective_database_url)
        context = build_control_context(fuzz_settings, db, MemoryNotifier(), MemoryThrottle())
        try:
            builder = WorldBuilder(context, password_hash)
            world = await builder.world()
            return world["super_admin"].headers
        finally:
            await db.dispose()

    return asyncio.run(make())


@pytest.fixture(scope="module")
def api_schema(fuzz_settings: Settings) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(fuzz_settings, "control"))


EXAMPLES_PER_OPERATION = 40


def test_api_never_errors_and_keeps_its_schema(
    api_schema: schemathesis.BaseSchema, super_admin_headers: dict[str, str]
) -> None:
    operations = [
        operation
        for operation in (result.ok() for result in api_schema.get_all_operations())
        # Logging out would end the fuzzing session itself; test_auth.py covers it.
        if operation.label != "POST /auth/logout"
    ]
    assert len(operations) > 30
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call_and_validate(headers=super_admin_headers, checks=CHECKS)
            statuses[response.status_code] += 1

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert failures == []
    # The token must stay valid throughout, or the run only fuzzed the 401 path.
    assert statuses[401] < sum(statuses.values()) / 10, statuses
    assert sum(count for status, count in statuses.items() if status < 300) > 50, statuses
