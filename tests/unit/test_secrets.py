"""The embedded mode generates its secrets once into IAS_HOME and keeps them private."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ias.errors import StartupError
from ias.secrets import SECRETS_FILE, resolve_secrets
from ias.settings import SECRET_NAMES, Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _resolved(home: Path) -> dict[str, str]:
    settings = resolve_secrets(Settings(home=home))
    return {name: settings.secret(name) for name in SECRET_NAMES}


def test_first_run_creates_a_private_home_and_secrets_file(
    clean_env: pytest.MonkeyPatch, ias_home: Path
) -> None:
    values = _resolved(ias_home)

    secrets_file = ias_home / SECRETS_FILE
    assert _mode(ias_home) == 0o700
    assert _mode(secrets_file) == 0o600
    assert json.loads(secrets_file.read_text()) == values
    assert all(len(value) >= 64 for value in values.values())
    assert len(set(values.values())) == len(SECRET_NAMES)
    assert sorted(p.name for p in ias_home.iterdir()) == [SECRETS_FILE]


def test_secrets_are_stable_across_runs(clean_env: pytest.MonkeyPatch, ias_home: Path) -> None:
    assert _resolved(ias_home) == _resolved(ias_home)


def test_concurrent_first_runs_agree_on_one_set(
    clean_env: pytest.MonkeyPatch, ias_home: Path
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _resolved(ias_home), range(16)))

    assert all(result == results[0] for result in results)
    assert results[0] == json.loads((ias_home / SECRETS_FILE).read_text())


def test_explicit_environment_value_wins(clean_env: pytest.MonkeyPatch, ias_home: Path) -> None:
    generated = _resolved(ias_home)
    clean_env.setenv("IAS_JWT_SECRET", "j" * 40)

    values = _resolved(ias_home)

    assert values["jwt_secret"] == "j" * 40
    assert values["api_key_secret"] == generated["api_key_secret"]


def test_a_secret_missing_from_the_file_is_added(
    clean_env: pytest.MonkeyPatch, ias_home: Path
) -> None:
    first = _resolved(ias_home)
    secrets_file = ias_home / SECRETS_FILE
    secrets_file.write_text(json.dumps({"jwt_secret": first["jwt_secret"]}))

    second = _resolved(ias_home)

    assert second["jwt_secret"] == first["jwt_secret"]
    assert second["encryption_key"] != first["encryption_key"]
    assert json.loads(secrets_file.read_text()) == second
    assert _mode(secrets_file) == 0o600


def test_loose_permissions_are_tightened(clean_env: pytest.MonkeyPatch, ias_home: Path) -> None:
    _resolved(ias_home)
    secrets_file = ias_home / SECRETS_FILE
    secrets_file.chmod(0o644)

    _resolved(ias_home)

    assert _mode(secrets_file) == 0o600


def test_a_corrupt_file_is_refused_not_replaced(
    clean_env: pytest.MonkeyPatch, ias_home: Path
) -> None:
    ias_home.mkdir()
    secrets_file = ias_home / SECRETS_FILE
    secrets_file.write_text("{not json")

    with pytest.raises(StartupError, match="not a valid secrets file"):
        _resolved(ias_home)

    assert secrets_file.read_text() == "{not json"


def test_unwritable_home_is_named(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Root ignores permission bits, so a home under a regular file is what cannot be created.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    home = blocker / "home"

    with pytest.raises(StartupError) as caught:
        _resolved(home)

    assert str(caught.value).startswith(f"IAS_HOME {home} is not writable: ")
