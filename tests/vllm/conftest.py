"""A real vLLM server on the CPU (SmolLM2-135M-Instruct) behind the whole IAS stack.

Collected only when IAS_VLLM_TESTS=1, which `make test-vllm` sets after `scripts/vllm/setup.sh`
has made the vLLM virtualenv and the model folder: the default `make test` never starts vLLM.
When it is set and the environment is missing, the tests fail and say what to run.

One vLLM server and one stack (control plane, router and usage worker processes on PostgreSQL,
Redis and RabbitMQ, the model registered with `ias-admin`) serve the whole session; vLLM's own
token counters are scraped once before the first request, as the reconciliation's baseline.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from bench.vllm.engine import Counters, VllmServer, missing_setup
from bench.vllm.stack import Stack, running_stack
from openai import OpenAI

collect_ignore_glob = [] if os.environ.get("IAS_VLLM_TESTS") == "1" else ["test_*.py"]


@pytest.fixture(scope="session")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    reason = missing_setup()
    if reason:
        pytest.fail(reason)
    server = VllmServer(tmp_path_factory.mktemp("vllm"))
    server.start()
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def baseline(vllm: VllmServer) -> Counters:
    """vLLM's token counters before any request of the session."""
    return vllm.counters()


@pytest.fixture(scope="session")
def stack(
    vllm: VllmServer, baseline: Counters, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), vllm) as stack:
        yield stack


@pytest.fixture
def client(stack: Stack) -> Iterator[OpenAI]:
    """The `openai` SDK pointed at the router with the tenant's key."""
    with OpenAI(base_url=stack.v1, api_key=stack.key, max_retries=0, timeout=120) as client:
        yield client
