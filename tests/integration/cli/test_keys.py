"""`ias-admin key …`: the secret is shown once, lists never show it, revoking asks first."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.cli.conftest import Cli

NO_SUCH_ORG = "error: no organization named 'no-such-org' (or you cannot see it)\n"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def new_org(cli: Cli) -> str:
    name = f"keys-{uuid.uuid4().hex[:8]}"
    cli.ok("org", "create", name)
    return name


def new_model(cli: Cli, kind: str = "chat") -> str:
    name = f"keys-{kind}-{uuid.uuid4().hex[:8]}"
    cli.ok("model", "add", name, "--kind", kind, "--upstream-model", "org/upstream-chat-7b")
    return name


def keys_of(cli: Cli, org: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(cli.ok("key", "list", org, "--json").stdout)
    return listed


def test_create_shows_the_secret_once_with_a_warning(admin: Cli) -> None:
    org = new_org(admin)
    shown = admin.ok("key", "create", org, "--name", "ci").stdout
    secret = next(line.strip() for line in shown.splitlines() if line.startswith("  ias"))
    assert "not shown again" in shown
    [key] = keys_of(admin, org)
    assert secret.startswith(key["prefix"])
    listed = admin.ok("key", "list", org).stdout
    assert key["prefix"] in listed
    assert "ci" in listed
    assert secret not in listed
    assert secret not in json.dumps(key)
    models = httpx.get(f"{admin.live.url}/v1/models", headers={"authorization": f"Bearer {secret}"})
    assert models.status_code == 200


def test_create_json_returns_the_api_object_with_the_key_and_its_limits(admin: Cli) -> None:
    org, chat, embed = new_org(admin), new_model(admin), new_model(admin, "embedding")
    args = (
        "key", "create", org,
        "--name", "batch",
        "--model", chat, "--model", embed,
        "--rpm", "30", "--tpm", "5000", "--concurrency", "2",
        "--expires-at", "2099-01-01T00:00:00Z",
    )  # fmt: skip
    created = json.loads(admin.ok(*args, "--json").stdout)
    assert created["key"].startswith(created["prefix"])
    assert created["models"] == [chat, embed]
    assert (created["rpm_limit"], created["tpm_limit"], created["concurrency_limit"]) == (
        30,
        5000,
        2,
    )
    assert created["expires_at"].startswith("2099-01-01T00:00:00")
    [listed] = keys_of(admin, org)
    assert listed["id"] == created["id"]
    assert "key" not in listed
    assert listed["status"] == "active"


def test_revoke_asks_first_and_refuses_without_a_terminal(admin: Cli) -> None:
    org = new_org(admin)
    key = json.loads(admin.ok("key", "create", org, "--name", "old", "--json").stdout)
    refused = admin("key", "revoke", org, key["id"])
    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert keys_of(admin, org)[0]["status"] == "active"

    done = admin.ok("key", "revoke", org, key["id"], "--yes")
    assert key["id"] in done.stdout
    assert keys_of(admin, org)[0]["status"] == "revoked"
    again = json.loads(admin.ok("key", "revoke", org, key["id"], "--yes", "--json").stdout)
    assert again == {"id": key["id"], "revoked": True}


def test_an_unknown_org_is_one_line(admin: Cli) -> None:
    for args in (
        ("key", "list", "no-such-org"),
        ("key", "create", "no-such-org", "--name", "x"),
        ("key", "revoke", "no-such-org", str(uuid.uuid4()), "--yes"),
    ):
        result = admin(*args)
        assert result.exit_code == 1, args
        assert result.stderr == NO_SUCH_ORG


def test_a_refused_key_is_one_line(admin: Cli) -> None:
    org = new_org(admin)
    result = admin("key", "create", org, "--name", "x", "--model", "no-such-model")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1
    assert keys_of(admin, org) == []


def test_wrong_arguments_are_usage_errors(admin: Cli) -> None:
    org = new_org(admin)
    assert admin("key", "create", org).exit_code == 2  # no --name
    assert admin("key", "create", org, "--name", "x", "--rpm", "0").exit_code == 2
    no_zone = admin("key", "create", org, "--name", "x", "--expires-at", "2099-01-01T00:00")
    assert no_zone.exit_code == 2
    assert "timezone" in no_zone.stderr
    assert admin("key", "revoke", org, "not-a-key-id", "--yes").exit_code == 2
    assert keys_of(admin, org) == []


def test_help_shows_examples(cli: Cli) -> None:
    for args in (("key",), ("key", "create"), ("key", "list"), ("key", "revoke")):
        shown = cli.ok(*args, "--help").stdout
        assert "Example:" in shown
        assert "ias-admin key " in shown
