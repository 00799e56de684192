"""`ias-admin audit list`: an org's log and the platform's, newest first, across pages."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from ias.cli import audit
from tests.integration.cli.conftest import Cli


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def busy_org(cli: Cli) -> str:
    """An org with a created and a revoked key in its log."""
    org = f"audit-{uuid.uuid4().hex[:8]}"
    cli.ok("org", "create", org)
    key = json.loads(cli.ok("key", "create", org, "--name", "audited", "--json").stdout)
    cli.ok("key", "revoke", org, key["id"], "--yes")
    return org


def entries(cli: Cli, *args: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(cli.ok("audit", "list", *args, "--json").stdout)
    return log


def test_an_orgs_log_is_newest_first(admin: Cli) -> None:
    org = busy_org(admin)
    log = entries(admin, org)
    actions = [entry["action"] for entry in log["data"]]
    assert actions[:2] == ["api_key.revoked", "api_key.created"]
    assert "org.created" in actions
    assert log["next_cursor"] is None
    shown = admin.ok("audit", "list", org).stdout
    assert "api_key.revoked" in shown
    assert "root@example.com" in shown
    assert "name=audited" in shown


def test_limit_stops_early_and_says_there_is_more(admin: Cli) -> None:
    org = busy_org(admin)
    log = entries(admin, org, "--limit", "2")
    assert [entry["action"] for entry in log["data"]] == ["api_key.revoked", "api_key.created"]
    assert log["next_cursor"]
    assert "pass a larger --limit" in admin.ok("audit", "list", org, "--limit", "2").stdout


def test_pages_are_followed_up_to_the_limit(admin: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    busy_org(admin)
    busy_org(admin)
    whole = entries(admin, "--all", "--limit", "7")["data"]
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    paged = entries(admin, "--all", "--limit", "7")["data"]
    assert len(paged) == 7
    assert [entry["id"] for entry in paged] == [entry["id"] for entry in whole]


def test_the_platform_log_can_be_narrowed(admin: Cli) -> None:
    org = busy_org(admin)
    busy_org(admin)
    [org_id] = {entry["org_id"] for entry in entries(admin, org)["data"]}
    narrowed = entries(admin, org, "--all")["data"]
    assert {entry["org_id"] for entry in narrowed} == {org_id}
    created = entries(admin, "--all", "--action", "org.created", "--limit", "500")["data"]
    assert {entry["action"] for entry in created} == {"org.created"}
    assert org_id in {entry["org_id"] for entry in created}
    assert "org id" in admin.ok("audit", "list", "--all", "--limit", "3").stdout


def test_wrong_arguments_are_usage_errors(admin: Cli) -> None:
    for args in (
        (),
        ("acme", "--action", "org.created"),
        ("acme", "--limit", "0"),
        ("acme", "--limit", "many"),
    ):
        result = admin("audit", "list", *args)
        assert result.exit_code == 2, (args, result.output)


def test_refusals_are_one_line(admin: Cli) -> None:
    result = admin("audit", "list", "no-such-org")
    assert result.exit_code == 1
    assert result.stderr == "error: no organization named 'no-such-org' (or you cannot see it)\n"
    signed_out = Cli(admin.live, admin.config.parent / "signed-out")
    refused = signed_out("audit", "list", "--all")
    assert refused.exit_code == 1
    assert "not signed in" in refused.stderr


def test_help_shows_examples(cli: Cli) -> None:
    for args in (("audit",), ("audit", "list")):
        shown = cli.ok(*args, "--help").stdout
        assert "Example:" in shown
        assert "ias-admin audit list" in shown
