"""Settings a process can start with: validated, and with every secret filled in.

Invariant guarded here: no process runs without its secrets. The embedded mode generates them
once into ``IAS_HOME/secrets.json`` (mode 0600, never readable by others, not even while it is
being written) and reuses them on every later start, so API keys, sessions and encrypted
backend credentials survive restarts. The production mode never generates anything: every
variable it needs must be set, and a missing one stops the process naming it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr, ValidationError
from pydantic_settings.exceptions import SettingsError

from ias.errors import StartupError
from ias.settings import SECRET_NAMES, Mode, Settings

SECRETS_FILE = "secrets.json"
PRODUCTION_REQUIRED = (
    "database_url",
    "redis_url",
    "rabbitmq_url",
    *SECRET_NAMES,
)


def env_name(location: tuple[int | str, ...]) -> str:
    """The environment variable behind a settings field, e.g. ("server", "port")."""
    parts = [str(part).upper() for part in location if isinstance(part, str)]
    return "IAS_" + "__".join(parts)


def load_settings() -> Settings:
    """`Settings()` from the environment, or one `StartupError` line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise StartupError(describe_validation_error(exc)) from None
    except SettingsError as exc:
        # Raised for values that are not even parseable, e.g. a nested section that is bad JSON.
        raise StartupError(f"invalid IAS_* environment: {exc}") from None


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        variable = env_name(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(message if variable in message else f"{variable}: {message}")
    return "; ".join(problems)


def resolve_secrets(settings: Settings) -> Settings:
    """Settings with every secret present, or a `StartupError` saying what is missing."""
    if settings.mode is Mode.PRODUCTION:
        _require_production_variables(settings)
        return settings
    home = ensure_home(settings.home)
    stored = _load_or_create_secrets(home / SECRETS_FILE)
    # An explicit IAS_* value always wins over the generated one.
    missing = {
        name: SecretStr(stored[name]) for name in SECRET_NAMES if getattr(settings, name) is None
    }
    # An absolute home keeps the SQLite file where it is even if the process changes directory.
    return settings.model_copy(update={**missing, "home": home})


def _require_production_variables(settings: Settings) -> None:
    missing = [env_name((name,)) for name in PRODUCTION_REQUIRED if not getattr(settings, name)]
    if missing:
        raise StartupError(
            f"production mode needs {', '.join(missing)} (set them in the environment)"
        )


def ensure_home(home: Path) -> Path:
    """Create `IAS_HOME` (0700) if needed and prove it is writable; returns it absolute."""
    home = home.absolute()
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Root passes every permission check, so only a real write tells the truth.
        fd, probe = tempfile.mkstemp(dir=home, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StartupError(f"IAS_HOME {home} is not writable: {exc.strerror or exc}") from None
    return home


def _load_or_create_secrets(path: Path) -> dict[str, str]:
    stored = _read_secrets(path)
    if stored is None:
        stored = _generate(SECRET_NAMES)
        if not _publish(path, stored, replace=False):
            # Another process created the file first; its secrets are the ones to keep.
            stored = _read_secrets(path) or {}
    missing = [name for name in SECRET_NAMES if not stored.get(name)]
    if missing:
        # A newer release added a secret: keep the existing ones, add the new ones.
        stored = {**stored, **_generate(missing)}
        _publish(path, stored, replace=True)
    return stored


def _generate(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {name: secrets.token_urlsafe(48) for name in names}


def _read_secrets(path: Path) -> dict[str, str] | None:
    try:
        raw = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StartupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # A copied or restored file may have lost its mode; secrets stay owner-only.
        path.chmod(0o600)
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
        raise StartupError(
            f"{path} is not a valid secrets file; restore it from a backup, or delete it to "
            "generate new secrets (existing API keys and sessions then stop working)"
        )
    return dict(data)


def _publish(path: Path, values: Mapping[str, str], *, replace: bool) -> bool:
    """Write the secrets file atomically; False when `replace` is off and it already exists."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # exact mode whatever the umask
            json.dump(dict(values), file, indent=2, sort_keys=True)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(tmp, path)
            return True
        # link() refuses to overwrite, so two first starts racing keep one set of secrets.
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise StartupError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
