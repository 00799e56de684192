"""The end-to-end stack for the tests of this folder, one per module.

Tests marked `chaos` (the slow tier, full-scale faults) are collected only when
IAS_CHAOS_TESTS=1, which `make test-chaos` sets; `make test` runs the rest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, running_stack

CHAOS = os.environ.get("IAS_CHAOS_TESTS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHAOS:
        return
    slow = [item for item in items if item.get_closest_marker("chaos") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("chaos") is None]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e")) as stack:
        yield stack


@pytest.fixture(autouse=True)
def healed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test broke is mended before the next one: links healed, processes running."""
    yield
    if "stack" in request.fixturenames:
        stack: Stack = request.getfixturevalue("stack")
        stack.heal()
        stack.ensure_running()
