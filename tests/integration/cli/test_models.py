"""`ias-admin model …` and `ias-admin backend …`: the registry, as a super admin sees it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.cli.conftest import Cli

UPSTREAM = "org/upstream-chat-7b"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def registered(cli: Cli, name: str) -> dict[str, Any] | None:
    models: list[dict[str, Any]] = json.loads(cli.ok("model", "list", "--json").stdout)
    return next((model for model in models if model["name"] == name), None)


def add_model(cli: Cli, *extra: str) -> dict[str, Any]:
    name = unique("model")
    args = ("model", "add", name, "--kind", "chat", "--upstream-model", UPSTREAM, *extra)
    model: dict[str, Any] = json.loads(cli.ok(*args, "--json").stdout)
    return model


def test_add_registers_a_model_with_its_backends(admin: Cli) -> None:
    name = unique("llama")
    shown = admin.ok(
        "model", "add", name,
        "--kind", "chat",
        "--upstream-model", UPSTREAM,
        "--context-length", "8192",
        "--input-price-per-mtok", "0.15",
        "--output-price-per-mtok", "0.6",
        "--cached-input-price-per-mtok", "0.05",
        "--backend", admin.live.engine_url,
        "--backend", "http://127.0.0.1:9/v1",
    ).stdout  # fmt: skip
    assert f"registered model {name}" in shown
    assert "2 backend(s)" in shown
    model = registered(admin, name)
    assert model is not None
    assert model["kind"] == "chat"
    assert model["upstream_model"] == UPSTREAM
    assert model["context_length"] == 8192
    assert (model["input_price_per_mtok"], model["output_price_per_mtok"]) == (0.15, 0.6)
    assert model["cached_input_price_per_mtok"] == 0.05
    assert model["enabled"] is True
    assert len(model["backends"]) == 2
    listed = admin.ok("model", "list").stdout
    assert name in listed
    assert admin.live.engine_url in listed


def test_add_without_prices_is_free_and_can_start_disabled(admin: Cli) -> None:
    model = add_model(admin, "--disabled")
    assert (model["input_price_per_mtok"], model["output_price_per_mtok"]) == (0, 0)
    assert model["enabled"] is False
    assert model["backends"] == []


def test_a_refused_backend_says_the_model_was_registered(admin: Cli) -> None:
    name = unique("half")
    result = admin(
        "model", "add", name, "--kind", "chat", "--upstream-model", UPSTREAM,
        "--backend", "http://127.0.0.1:9/v1?token=x",
    )  # fmt: skip
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert f"registered model {name}" in result.stderr
    assert "backend add" in result.stderr
    model = registered(admin, name)
    assert model is not None
    assert model["backends"] == []


def test_update_changes_only_what_is_given(admin: Cli) -> None:
    model = add_model(admin, "--input-price-per-mtok", "1", "--output-price-per-mtok", "2")
    renamed = unique("renamed")
    shown = admin.ok(
        "model", "update", model["name"],
        "--name", renamed, "--output-price-per-mtok", "3", "--context-length", "4096", "--disable",
    ).stdout  # fmt: skip
    assert f"updated model {renamed}" in shown
    updated = registered(admin, renamed)
    assert updated is not None
    assert updated["id"] == model["id"]
    assert (updated["input_price_per_mtok"], updated["output_price_per_mtok"]) == (1, 3)
    assert updated["context_length"] == 4096
    assert updated["enabled"] is False
    back_on = json.loads(admin.ok("model", "update", model["id"], "--enable", "--json").stdout)
    assert back_on["enabled"] is True
    assert back_on["name"] == renamed


def test_update_without_changes_is_a_usage_error(admin: Cli) -> None:
    model = add_model(admin)
    result = admin("model", "update", model["name"])
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_remove_asks_first(admin: Cli) -> None:
    model = add_model(admin, "--backend", admin.live.engine_url)
    refused = admin("model", "remove", model["name"])
    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert registered(admin, model["name"]) is not None

    removed = admin.ok("model", "remove", model["name"], "-y")
    assert f"removed model {model['name']}" in removed.stdout
    assert registered(admin, model["name"]) is None


def test_backends_can_be_added_listed_and_removed(admin: Cli) -> None:
    model = add_model(admin)
    args = ("--api-key", "engine-secret", "--weight", "3", "--json")
    added = json.loads(
        admin.ok("backend", "add", model["name"], admin.live.engine_url, *args).stdout
    )
    assert (added["weight"], added["has_api_key"], added["enabled"]) == (3, True, True)
    assert "engine-secret" not in json.dumps(added)
    listed = admin.ok("backend", "list", model["name"]).stdout
    assert added["id"] in listed
    assert "stored" in listed
    assert "engine-secret" not in listed
    [only] = json.loads(admin.ok("backend", "list", model["id"], "--json").stdout)
    assert only["id"] == added["id"]

    refused = admin("backend", "remove", model["name"], added["id"])
    assert refused.exit_code == 1
    assert len(json.loads(admin.ok("backend", "list", model["name"], "--json").stdout)) == 1
    admin.ok("backend", "remove", model["name"], added["id"], "--yes")
    assert json.loads(admin.ok("backend", "list", model["name"], "--json").stdout) == []


def test_an_unknown_model_is_one_line(admin: Cli) -> None:
    for args in (
        ("model", "update", "no-such-model", "--disable"),
        ("model", "remove", "no-such-model", "--yes"),
        ("backend", "list", "no-such-model"),
        ("backend", "add", "no-such-model", "http://127.0.0.1:9/v1"),
        ("backend", "remove", "no-such-model", str(uuid.uuid4()), "--yes"),
    ):
        result = admin(*args)
        assert result.exit_code == 1, args
        assert result.stderr == "error: no model named 'no-such-model' (or you cannot see it)\n"


def test_a_duplicate_name_is_refused_in_one_line(admin: Cli) -> None:
    model = add_model(admin)
    result = admin("model", "add", model["name"], "--kind", "chat", "--upstream-model", UPSTREAM)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1


def test_wrong_arguments_are_usage_errors(admin: Cli) -> None:
    name = unique("bad")
    base = ("model", "add", name, "--upstream-model", UPSTREAM)
    assert admin(*base, "--kind", "vision").exit_code == 2
    assert admin(*base, "--kind", "chat", "--backend", "10.0.0.5:8000").exit_code == 2
    assert admin(*base, "--kind", "chat", "--input-price-per-mtok", "-1").exit_code == 2
    assert admin("model", "add", name, "--kind", "chat").exit_code == 2  # no upstream model
    assert admin("backend", "add", "any", "ftp://10.0.0.5/v1").exit_code == 2
    assert admin("backend", "add", "any", "http://10.0.0.5/v1", "--weight", "0").exit_code == 2
    assert admin("backend", "remove", "any", "not-an-id", "--yes").exit_code == 2
    assert registered(admin, name) is None


def test_help_shows_examples(cli: Cli) -> None:
    for group, commands in (
        ("model", ("add", "list", "update", "remove")),
        ("backend", ("add", "list", "remove")),
    ):
        for args in ((group,), *((group, command) for command in commands)):
            shown = cli.ok(*args, "--help").stdout
            assert "Example:" in shown, args
            assert f"ias-admin {group} " in shown, args
