"""The operator's first hour, scripted: sign in, create an org, register a model with a backend,
issue a key, call `/v1` with it, and see the call in the usage report."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.integration.cli.conftest import Cli

UPSTREAM = "org/upstream-chat-7b"


def chat(url: str, key: str, model: str, *, wait_seconds: float = 5.0) -> dict[str, Any]:
    """One chat completion; retried while the router's catalog has not seen the model yet."""
    body = {"model": model, "messages": [{"role": "user", "content": "Say hello."}]}
    headers = {"authorization": f"Bearer {key}"}
    deadline = time.monotonic() + wait_seconds
    while True:
        response = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers)
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer
        time.sleep(0.1)


def usage_totals(cli: Cli, org: str, requests: int, wait_seconds: float = 10.0) -> dict[str, Any]:
    """The org's usage totals by minute, once the ledger has `requests` requests."""
    deadline = time.monotonic() + wait_seconds
    while True:
        report = json.loads(
            cli.ok("usage", "show", org, "--json", "--granularity", "minute").stdout
        )
        totals: dict[str, Any] = report["totals"]
        if totals["requests"] >= requests or time.monotonic() > deadline:
            assert totals["requests"] == requests, report
            return totals
        time.sleep(0.2)


def test_sign_in_register_a_model_issue_a_key_call_it_and_see_the_usage(cli: Cli) -> None:
    live = cli.live
    org, model = f"walk-{uuid.uuid4().hex[:8]}", f"walk-chat-{uuid.uuid4().hex[:8]}"

    cli.login()
    cli.ok("org", "create", org)
    cli.ok(
        "model", "add", model,
        "--kind", "chat",
        "--upstream-model", UPSTREAM,
        "--input-price-per-mtok", "0.15",
        "--output-price-per-mtok", "0.60",
        "--backend", live.engine_url,
    )  # fmt: skip
    created = json.loads(cli.ok("key", "create", org, "--name", "walk", "--json").stdout)

    answer = chat(live.url, created["key"], model)

    totals = usage_totals(cli, org, requests=1)
    assert totals["prompt_tokens"] == answer["usage"]["prompt_tokens"]
    assert totals["completion_tokens"] == answer["usage"]["completion_tokens"]
    assert totals["total_tokens"] == answer["usage"]["total_tokens"]
    assert totals["cost_usd"] > 0
