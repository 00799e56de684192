"""`ias-admin org …` and `ias-admin user …` against a live installation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.cli.conftest import ADMIN_EMAIL, Cli
from tests.integration.cli.test_members_invites import (
    PASSWORD,
    assert_one_line_error,
    join,
    new_org,
    signed_in_as,
)


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fit a wide terminal, as an operator's would, so no cell wraps mid-value."""
    monkeypatch.setenv("COLUMNS", "200")


def shown(admin: Cli, org: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(admin.ok("org", "show", org, "--json").stdout)
    return found


def user(admin: Cli, email: str) -> dict[str, Any]:
    rows = json.loads(admin.ok("user", "list", "--search", email, "--json").stdout)
    matching = [row for row in rows if row["email"] == email]
    assert len(matching) == 1, rows
    found: dict[str, Any] = matching[0]
    return found


def test_create_makes_you_the_owner(admin: Cli) -> None:
    name = f"Acme {uuid.uuid4().hex[:8]}"
    created = admin.ok("org", "create", name).stdout
    assert f"created organization {name}" in created
    slug = name.lower().replace(" ", "-")
    assert f"slug {slug}" in created

    other = json.loads(admin.ok("org", "create", f"{name} two", "--json").stdout)
    assert other["name"] == f"{name} two"
    assert other["role"] == "owner"
    assert set(other) >= {"id", "slug", "limits", "created_at"}


def test_list_shows_your_orgs_and_roles(admin: Cli) -> None:
    org = new_org(admin)
    table = admin.ok("org", "list").stdout
    assert org["name"] in table
    assert org["slug"] in table
    assert "owner" in table
    found = admin.ok("org", "list", "--search", org["slug"], "--json").stdout
    assert [(row["id"], row["role"]) for row in json.loads(found)] == [(org["id"], "owner")]
    assert (
        admin.ok("org", "list", "--search", "nothing-is-called-this")
        .stdout.strip()
        .endswith("(none)")
    )


def test_list_all_pages_through_every_org(admin: Cli) -> None:
    prefix = f"Paged {uuid.uuid4().hex[:8]}"
    ids = [
        json.loads(admin.ok("org", "create", f"{prefix} {n}", "--json").stdout)["id"]
        for n in range(3)
    ]
    every = json.loads(admin.ok("org", "list", "--all", "--search", prefix, "--json").stdout)
    assert {row["id"] for row in every} == set(ids)
    assert all(row["members"] == 1 for row in every)
    first = admin.ok("org", "list", "--all", "--search", prefix, "--limit", "2", "--json")
    assert [row["id"] for row in json.loads(first.stdout)] == [row["id"] for row in every[:2]]
    assert "showing the first 2" in first.stderr
    table = admin.ok("org", "list", "--all", "--search", prefix).stdout
    assert f"{prefix} 0" in table
    assert "members" in table


def test_show_gives_limits_and_consumption(admin: Cli) -> None:
    org = new_org(admin)
    table = admin.ok("org", "show", org["name"]).stdout
    for text in (org["id"], org["slug"], "owner", "requests per minute", "unlimited", "used"):
        assert text in table
    found = shown(admin, org["slug"])
    assert found["id"] == org["id"]
    assert found["limits"] == {
        "rpm": None,
        "tpm": None,
        "monthly_token_quota": None,
        "monthly_budget_usd": None,
        "concurrency": None,
    }
    assert found["models"] == []
    assert isinstance(found["usage"], dict)
    assert found["usage"]["requests_this_minute"] == 0


def test_set_limits_changes_only_what_it_names(admin: Cli) -> None:
    org = new_org(admin)
    table = admin.ok(
        "org",
        "set-limits",
        org["slug"],
        "--rpm",
        "600",
        "--tpm",
        "100000",
        "--concurrency",
        "5",
        "--monthly-token-quota",
        "1000000",
        "--monthly-budget-usd",
        "12.5",
    ).stdout
    assert f"updated the limits of {org['name']}" in table
    assert "600" in table
    assert "12.5" in table
    updated = json.loads(
        admin.ok("org", "set-limits", org["id"], "--clear-rpm", "--tpm", "0", "--json").stdout
    )
    assert updated["limits"] == {
        "rpm": None,
        "tpm": 0,
        "concurrency": 5,
        "monthly_token_quota": 1000000,
        "monthly_budget_usd": 12.5,
    }
    assert shown(admin, org["slug"])["limits"] == updated["limits"]


def test_set_limits_usage_errors_exit_2(admin: Cli) -> None:
    org = new_org(admin)
    assert admin("org", "set-limits", org["slug"]).exit_code == 2
    assert admin("org", "set-limits", org["slug"], "--rpm", "5", "--clear-rpm").exit_code == 2
    assert admin("org", "set-limits", org["slug"], "--rpm", "-1").exit_code == 2
    assert admin("org", "set-limits", org["slug"], "--concurrency", "0").exit_code == 2
    assert admin("org", "set-limits", org["slug"], "--rpm", "many").exit_code == 2
    assert shown(admin, org["slug"])["limits"] == new_limits()


def new_limits() -> dict[str, None]:
    return dict.fromkeys(
        ("rpm", "tpm", "monthly_token_quota", "monthly_budget_usd", "concurrency"), None
    )


def test_delete_asks_first(admin: Cli) -> None:
    org = new_org(admin)
    refused = admin("org", "delete", org["slug"])
    assert_one_line_error(refused, "pass --yes")
    assert shown(admin, org["id"])["id"] == org["id"]

    deleted = admin.ok("org", "delete", org["slug"], "--yes")
    assert f"deleted organization {org['name']}" in deleted.stdout
    assert_one_line_error(admin("org", "show", org["id"]))
    assert_one_line_error(admin("org", "show", org["slug"]), "no organization named")


def test_unknown_orgs_are_one_line(admin: Cli) -> None:
    missing = f"no-such-org-{uuid.uuid4().hex[:8]}"
    for command in (
        ("org", "show", missing),
        ("org", "delete", missing, "--yes"),
        ("org", "set-limits", missing, "--rpm", "5"),
    ):
        assert_one_line_error(admin(*command), f"no organization named '{missing}'")


def test_user_list_finds_accounts(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    table = admin.ok("user", "list", "--search", email).stdout
    assert email in table
    assert "Invited Person" in table
    assert ADMIN_EMAIL not in table
    found = user(admin, email)
    assert found["disabled"] is False
    assert found["is_super_admin"] is False
    assert found["orgs"] == 1
    everyone = admin.ok("user", "list").stdout
    assert ADMIN_EMAIL in everyone
    assert email in everyone


def test_disable_asks_first_and_enable_undoes_it(admin: Cli) -> None:
    email = join(admin, new_org(admin)["slug"])
    refused = admin("user", "disable", email)
    assert_one_line_error(refused, "pass --yes")
    assert user(admin, email)["disabled"] is False

    assert f"disabled {email}" in admin.ok("user", "disable", email, "--yes").stdout
    assert user(admin, email)["disabled"] is True
    locked_out = Cli(admin.live, admin.config.parent / "locked-out")
    assert_one_line_error(locked_out("login", "--email", email, "--password", PASSWORD))

    enabled = json.loads(admin.ok("user", "enable", email, "--json").stdout)
    assert enabled["email"] == email
    assert enabled["disabled"] is False
    signed_in_as(admin, email)


def test_make_super_admin_and_revoke(admin: Cli) -> None:
    email = join(admin, new_org(admin)["slug"])
    granted = admin.ok("user", "make-super-admin", email)
    assert f"{email} is now a super admin" in granted.stdout
    assert user(admin, email)["is_super_admin"] is True
    # The new super admin sees every org.
    assert signed_in_as(admin, email).ok("org", "list", "--all").exit_code == 0

    user_id = str(user(admin, email)["id"])
    revoked = json.loads(admin.ok("user", "make-super-admin", user_id, "--revoke", "--json").stdout)
    assert revoked["is_super_admin"] is False
    assert user(admin, email)["is_super_admin"] is False


def test_you_cannot_disable_or_demote_yourself(admin: Cli) -> None:
    assert_one_line_error(admin("user", "disable", ADMIN_EMAIL, "--yes"), "your own")
    assert_one_line_error(admin("user", "make-super-admin", ADMIN_EMAIL, "--revoke"), "your own")
    assert user(admin, ADMIN_EMAIL)["is_super_admin"] is True


def test_unknown_users_are_one_line(admin: Cli) -> None:
    missing = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    for command in (
        ("user", "disable", missing, "--yes"),
        ("user", "enable", missing),
        ("user", "make-super-admin", missing),
    ):
        assert_one_line_error(admin(*command), f"no user named '{missing}'")
    assert_one_line_error(admin("user", "enable", str(uuid.uuid4())))


def test_an_org_owner_who_is_not_super_admin_is_refused_in_one_line(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"], role="owner")
    owner = signed_in_as(admin, email)
    assert "owner" in owner.ok("org", "list").stdout
    assert owner.ok("org", "show", org["slug"]).exit_code == 0
    refusals = (
        ("org", "list", "--all"),
        ("org", "set-limits", org["id"], "--rpm", "5"),
        ("user", "list"),
        ("user", "disable", ADMIN_EMAIL, "--yes"),
        ("user", "make-super-admin", email),
    )
    for command in refusals:
        result = owner(*command)
        assert_one_line_error(result)
        assert "super admin" in result.stderr.lower() or "permission" in result.stderr.lower()
    assert shown(admin, org["slug"])["limits"] == new_limits()
    # An owner may delete their own org without being a super admin.
    owner.ok("org", "delete", org["slug"], "--yes")


def test_a_super_admin_reaches_orgs_they_are_not_in(admin: Cli) -> None:
    email = join(admin, new_org(admin)["slug"])
    theirs = json.loads(
        signed_in_as(admin, email)
        .ok("org", "create", f"Theirs {uuid.uuid4().hex[:8]}", "--json")
        .stdout
    )
    assert theirs["slug"] not in admin.ok("org", "list").stdout
    assert theirs["slug"] in admin.ok("org", "list", "--all", "--search", theirs["slug"]).stdout
    assert "you are a super admin" in admin.ok("org", "show", theirs["slug"]).stdout
    assert shown(admin, theirs["name"])["role"] is None
    admin.ok("org", "set-limits", theirs["slug"], "--monthly-token-quota", "42")
    assert shown(admin, theirs["slug"])["limits"]["monthly_token_quota"] == 42
    assert email in admin.ok("member", "list", theirs["slug"]).stdout


def test_help_shows_examples(cli: Cli) -> None:
    for group in ("org", "user"):
        text = cli.ok(group, "--help").stdout
        assert "Example:" in text
        assert f"ias-admin {group} " in text
    for command in (
        ("org", "create"),
        ("org", "list"),
        ("org", "show"),
        ("org", "delete"),
        ("org", "set-limits"),
        ("user", "list"),
        ("user", "disable"),
        ("user", "enable"),
        ("user", "make-super-admin"),
    ):
        text = cli.ok(*command, "--help").stdout
        assert "Example:" in text
        assert "ias-admin " + " ".join(command) in text
