"""Signing `ias-admin` in and out, and what it says when it cannot."""

from __future__ import annotations

import json
import stat

from tests.integration.cli.conftest import ADMIN_EMAIL, Cli
from tests.servers import free_port


def test_login_saves_a_private_login_that_whoami_uses(cli: Cli) -> None:
    cli.login()
    saved = cli.config / "ias" / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())["email"] == ADMIN_EMAIL
    shown = cli.ok("whoami")
    assert ADMIN_EMAIL in shown.stdout
    assert "super admin" in shown.stdout
    me = json.loads(cli.ok("whoami", "--json").stdout)
    assert me["email"] == ADMIN_EMAIL


def test_logout_ends_the_session_and_forgets_it(cli: Cli) -> None:
    cli.login()
    saved = json.loads((cli.config / "ias" / "credentials.json").read_text())
    assert "signed out" in cli.ok("logout").stdout
    assert not (cli.config / "ias" / "credentials.json").exists()
    # The old token no longer works on the server either.
    (cli.config / "ias").mkdir(exist_ok=True)
    (cli.config / "ias" / "credentials.json").write_text(json.dumps(saved))
    result = cli("whoami")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "login" in result.stderr


def test_an_expired_access_token_is_renewed_with_the_refresh_token(cli: Cli) -> None:
    cli.login()
    path = cli.config / "ias" / "credentials.json"
    saved = json.loads(path.read_text())
    saved["access_token"] = "expired.or.garbage"
    path.write_text(json.dumps(saved))
    assert ADMIN_EMAIL in cli.ok("whoami").stdout
    renewed = json.loads(path.read_text())
    assert renewed["access_token"] != "expired.or.garbage"
    assert renewed["refresh_token"] != saved["refresh_token"]  # rotated


def test_commands_need_a_login(cli: Cli) -> None:
    result = cli("whoami")
    assert result.exit_code == 1
    assert result.stderr == "error: you are not signed in; run `ias-admin login` first\n"


def test_a_wrong_password_is_one_line(cli: Cli) -> None:
    result = cli("login", "--email", ADMIN_EMAIL, "--password", "not-the-password-at-all")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert not (cli.config / "ias" / "credentials.json").exists()


def test_an_unreachable_server_is_one_line(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("login", "--url", url, "--email", ADMIN_EMAIL, "--password", "whatever-it-is")
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: cannot reach {url}: connection refused (is the server running?)\n"
    )


def test_a_bad_url_is_one_line(cli: Cli) -> None:
    result = cli("whoami", "--url", "ias.example.com")
    assert result.exit_code == 1
    assert "must start with http:// or https://" in result.stderr
