"""Settings come from IAS_* variables; a bad value stops the process with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ias.errors import StartupError
from ias.secrets import load_settings, resolve_secrets
from ias.settings import Mode

SECRET = "s" * 40


def test_defaults_are_the_embedded_mode(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.mode is Mode.EMBEDDED
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_environment_overrides_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("IAS_HOME", str(tmp_path / "data"))
    clean_env.setenv("IAS_SERVER__HOST", "10.1.2.3")
    clean_env.setenv("IAS_SERVER__PORT", "9001")
    clean_env.setenv("IAS_DATABASE_URL", "postgresql://ias@db.internal:5433/ias")

    settings = load_settings()

    assert settings.home == tmp_path / "data"
    assert (settings.server.host, settings.server.port) == ("10.1.2.3", 9001)
    assert settings.effective_database_url == "postgresql+asyncpg://ias@db.internal:5433/ias"


@pytest.mark.parametrize("value", ["70000", "0", "eighty"])
def test_bad_port_names_the_variable(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("IAS_SERVER__PORT", value)

    with pytest.raises(StartupError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith("IAS_SERVER__PORT: ")
    assert "\n" not in message


def test_port_above_range_says_the_limit(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_SERVER__PORT", "70000")

    with pytest.raises(StartupError, match="less than or equal to 65535"):
        load_settings()


def test_unsupported_database_scheme_is_named_once(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_DATABASE_URL", "mysql://root@localhost/ias")

    with pytest.raises(StartupError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.count("IAS_DATABASE_URL") == 1
    assert "postgresql+asyncpg://" in message


def test_every_bad_variable_is_reported_on_one_line(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_REDIS_URL", "http://localhost:6379")
    clean_env.setenv("IAS_JWT_SECRET", "too-short")

    with pytest.raises(StartupError) as caught:
        load_settings()

    message = str(caught.value)
    assert "IAS_REDIS_URL" in message
    assert "IAS_JWT_SECRET: must be at least 32 characters" in message
    assert "too-short" not in message
    assert "\n" not in message


def test_bad_mode_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_MODE", "staging")

    with pytest.raises(StartupError, match=r"^IAS_MODE: "):
        load_settings()


def test_production_names_every_missing_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_MODE", "production")
    clean_env.setenv("IAS_REDIS_URL", "redis://127.0.0.1:6379/0")
    clean_env.setenv("IAS_JWT_SECRET", SECRET)

    with pytest.raises(StartupError) as caught:
        resolve_secrets(load_settings())

    message = str(caught.value)
    for variable in (
        "IAS_DATABASE_URL",
        "IAS_RABBITMQ_URL",
        "IAS_API_KEY_SECRET",
        "IAS_ENCRYPTION_KEY",
    ):
        assert variable in message
    assert "IAS_REDIS_URL" not in message
    assert "IAS_JWT_SECRET" not in message


def test_production_never_generates_secrets(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    clean_env.setenv("IAS_MODE", "production")
    clean_env.setenv("IAS_HOME", str(home))

    with pytest.raises(StartupError):
        resolve_secrets(load_settings())

    assert not home.exists()


def test_production_with_everything_set_starts(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("IAS_MODE", "production")
    clean_env.setenv("IAS_DATABASE_URL", "postgresql+asyncpg://ias@db/ias")
    clean_env.setenv("IAS_REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("IAS_RABBITMQ_URL", "amqp://guest:guest@mq:5672/")
    clean_env.setenv("IAS_JWT_SECRET", SECRET + "j")
    clean_env.setenv("IAS_API_KEY_SECRET", SECRET + "a")
    clean_env.setenv("IAS_ENCRYPTION_KEY", SECRET + "e")

    settings = resolve_secrets(load_settings())

    assert settings.secret("jwt_secret") == SECRET + "j"
    assert settings.secret("encryption_key") == SECRET + "e"


def test_request_head_and_body_guards_have_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.server.max_header_bytes == 64 * 1024
    assert settings.control.body_read_seconds == 30.0


def test_request_head_and_body_guards_come_from_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("IAS_SERVER__MAX_HEADER_BYTES", "16384")
    clean_env.setenv("IAS_CONTROL__BODY_READ_SECONDS", "2.5")

    settings = load_settings()

    assert settings.server.max_header_bytes == 16384
    assert settings.control.body_read_seconds == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [("IAS_SERVER__MAX_HEADER_BYTES", "1023"), ("IAS_CONTROL__BODY_READ_SECONDS", "0")],
)
def test_request_guards_out_of_range_name_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value)

    with pytest.raises(StartupError) as caught:
        load_settings()

    assert str(caught.value).startswith(f"{name}: ")
