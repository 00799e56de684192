"""`ias-admin invite …` and `ias-admin member …` against a live installation."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from click.testing import Result

from tests.integration.cli.conftest import ADMIN_EMAIL, Cli

PASSWORD = "amber-lantern-93-quiver"


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fit a wide terminal, as an operator's would, so no cell wraps mid-value."""
    monkeypatch.setenv("COLUMNS", "200")


def new_org(admin: Cli) -> dict[str, str]:
    """A fresh org owned by the signed-in user, named uniquely for the test."""
    created: dict[str, str] = json.loads(
        admin.ok("org", "create", f"Team {uuid.uuid4().hex[:10]}", "--json").stdout
    )
    return created


def join(admin: Cli, org: str, role: str = "member") -> str:
    """A new account in `org` with `role`: invited with the CLI, accepted through the API."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    invite = json.loads(
        admin.ok("invite", "create", org, "--email", email, "--role", role, "--json").stdout
    )
    accepted = httpx.post(
        f"{admin.live.url}/api/invites/{invite['token']}/accept",
        json={"name": "Invited Person", "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    return email


def signed_in_as(admin: Cli, email: str) -> Cli:
    """A second `ias-admin`, with its own saved login, signed in as `email`."""
    other = Cli(admin.live, admin.config.parent / f"config-{uuid.uuid4().hex[:6]}")
    other.login(email, PASSWORD)
    return other


def assert_one_line_error(result: Result, contains: str = "") -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert contains.lower() in result.stderr.lower()


def roles(admin: Cli, org: str) -> dict[str, str]:
    members = json.loads(admin.ok("member", "list", org, "--json").stdout)
    return {member["email"]: member["role"] for member in members}


def statuses(admin: Cli, org: str) -> list[str]:
    return [row["status"] for row in json.loads(admin.ok("invite", "list", org, "--json").stdout)]


def test_an_invite_prints_its_link_and_token_once(admin: Cli) -> None:
    org = new_org(admin)
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    shown = admin.ok("invite", "create", org["slug"], "--email", email, "--role", "admin").stdout
    token = next(line for line in shown.splitlines() if line.startswith("token: "))
    token = token.removeprefix("token: ").split()[0]
    link = next(line.strip() for line in shown.splitlines() if line.strip().startswith("http"))
    assert link.endswith(f"/invites/{token}")
    assert f"invited {email} as admin" in shown

    listed = admin.ok("invite", "list", org["slug"]).stdout
    assert email in listed
    assert "pending" in listed
    assert token not in listed
    rows = json.loads(admin.ok("invite", "list", org["id"], "--json").stdout)
    assert [(row["email"], row["role"], row["status"]) for row in rows] == [
        (email, "admin", "pending")
    ]


def test_an_invite_as_json_is_the_api_object_and_can_be_accepted(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"], role="viewer")
    assert roles(admin, org["slug"]) == {ADMIN_EMAIL: "owner", email: "viewer"}
    assert statuses(admin, org["slug"]) == ["accepted"]


def test_revoking_an_invite_asks_first_then_stops_its_link(admin: Cli) -> None:
    org = new_org(admin)
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    invite = json.loads(
        admin.ok("invite", "create", org["slug"], "--email", email, "--json").stdout
    )
    assert set(invite) >= {"id", "email", "role", "url", "token", "expires_at"}
    assert invite["role"] == "member"

    refused = admin("invite", "revoke", org["slug"], email)
    assert_one_line_error(refused, "--yes")
    assert statuses(admin, org["slug"]) == ["pending"]

    revoked = admin.ok("invite", "revoke", org["slug"], email, "--yes")
    assert invite["id"] in revoked.stdout
    assert statuses(admin, org["slug"]) == ["revoked"]
    accepted = httpx.post(
        f"{admin.live.url}/api/invites/{invite['token']}/accept",
        json={"name": "Too Late", "password": PASSWORD},
    )
    assert accepted.status_code == 409

    # By id works too, and a second revoke is harmless.
    admin.ok("invite", "revoke", org["slug"], invite["id"], "--yes")


def test_invites_to_unknown_orgs_or_emails_are_one_line(admin: Cli) -> None:
    org = new_org(admin)
    missing = f"no-such-org-{uuid.uuid4().hex[:8]}"
    result = admin("invite", "create", missing, "--email", "x@example.com")
    assert_one_line_error(result, "no organization named")
    result = admin("invite", "revoke", org["slug"], "nobody@example.com", "--yes")
    assert_one_line_error(result, "no pending invite named")
    result = admin("invite", "create", org["slug"], "--email", "x@example.com", "--role", "boss")
    assert result.exit_code == 2


def test_members_are_listed_with_their_roles(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    table = admin.ok("member", "list", org["name"]).stdout
    assert ADMIN_EMAIL in table
    assert email in table
    assert "owner" in table
    assert "member" in table
    members = json.loads(admin.ok("member", "list", org["id"], "--json").stdout)
    assert {m["email"] for m in members} == {ADMIN_EMAIL, email}
    assert set(members[0]) >= {"user_id", "email", "name", "role", "joined_at"}


def test_set_role_changes_a_members_role(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    shown = admin.ok("member", "set-role", org["slug"], email, "admin")
    assert f"{email} is now admin" in shown.stdout
    assert roles(admin, org["slug"])[email] == "admin"

    user_id = next(
        m["user_id"]
        for m in json.loads(admin.ok("member", "list", org["slug"], "--json").stdout)
        if m["email"] == email
    )
    changed = json.loads(
        admin.ok("member", "set-role", org["slug"], user_id, "VIEWER", "--json").stdout
    )
    assert changed["role"] == "viewer"
    assert changed["user_id"] == user_id


def test_a_bad_role_is_a_usage_error(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    result = admin("member", "set-role", org["slug"], email, "boss")
    assert result.exit_code == 2
    assert roles(admin, org["slug"])[email] == "member"


def test_removing_a_member_asks_first(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    refused = admin("member", "remove", org["slug"], email)
    assert_one_line_error(refused, "--yes")
    assert email in roles(admin, org["slug"])

    admin.ok("member", "remove", org["slug"], email, "--yes")
    assert roles(admin, org["slug"]) == {ADMIN_EMAIL: "owner"}


def test_unknown_members_are_one_line(admin: Cli) -> None:
    org = new_org(admin)
    result = admin("member", "remove", org["slug"], "nobody@example.com", "--yes")
    assert_one_line_error(result, "no member named 'nobody@example.com'")
    result = admin("member", "set-role", org["slug"], str(uuid.uuid4()), "admin")
    assert_one_line_error(result)
    result = admin("member", "list", f"no-such-org-{uuid.uuid4().hex[:8]}")
    assert_one_line_error(result, "no organization named")


def test_the_last_owner_cannot_be_removed(admin: Cli) -> None:
    org = new_org(admin)
    result = admin("member", "remove", org["slug"], ADMIN_EMAIL, "--yes")
    assert_one_line_error(result, "owner")
    assert roles(admin, org["slug"]) == {ADMIN_EMAIL: "owner"}


def test_a_plain_member_is_refused_by_the_api_in_one_line(admin: Cli) -> None:
    org = new_org(admin)
    email = join(admin, org["slug"])
    member = signed_in_as(admin, email)
    assert email in member.ok("member", "list", org["slug"]).stdout
    result = member("member", "set-role", org["slug"], ADMIN_EMAIL, "viewer")
    assert_one_line_error(result)
    result = member("invite", "create", org["slug"], "--email", "friend@example.com")
    assert_one_line_error(result)
    result = member("member", "remove", org["slug"], ADMIN_EMAIL, "--yes")
    assert_one_line_error(result)
    assert roles(admin, org["slug"]) == {ADMIN_EMAIL: "owner", email: "member"}


def test_help_shows_examples(cli: Cli) -> None:
    for group in ("member", "invite"):
        shown = cli.ok(group, "--help").stdout
        assert "Example:" in shown
        assert f"ias-admin {group} " in shown
    for command in (
        ("member", "list"),
        ("member", "set-role"),
        ("member", "remove"),
        ("invite", "create"),
        ("invite", "list"),
        ("invite", "revoke"),
    ):
        text = cli.ok(*command, "--help").stdout
        assert "Example:" in text
        assert "ias-admin " + " ".join(command) in text
