"""How `ias-admin` talks to the control-plane API, and remembers who it is signed in as.

`ias-admin login` stores the server URL, the access token and the rotating refresh token in
`$XDG_CONFIG_HOME/ias/credentials.json` (else `~/.config/ias/…`), mode 0600. Every other
command reads them back: an expired access token is renewed with the refresh token once, and the
renewed pair is saved. The URL comes from `--url`, else `IAS_URL`, else the stored login.

Every failure a person can cause or meet — an unreachable server, an expired login, a refused
request — becomes `ApiError`, which the command turns into one `error:` line and exit code 1.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

REFRESH_COOKIE = "ias_refresh"
TIMEOUT_SECONDS = 30.0
DEFAULT_URL = "http://127.0.0.1:8000"


class ApiError(Exception):
    """A request that could not be made or was refused, in one sentence."""


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ias"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


@dataclass
class Credentials:
    url: str
    email: str
    access_token: str
    refresh_token: str | None = None

    @classmethod
    def load(cls) -> Credentials | None:
        path = credentials_path()
        try:
            data = json.loads(path.read_text())
            return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise ApiError(
                f"cannot read the saved login in {path} ({exc}); run `ias-admin login`"
            ) from None

    def save(self) -> None:
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created 0600 before anything is written: the tokens are never readable by others.
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(asdict(self), file)
        os.replace(path.with_suffix(".tmp"), path)

    @staticmethod
    def forget() -> bool:
        try:
            credentials_path().unlink()
        except FileNotFoundError:
            return False
        return True


def resolve_url(option: str | None) -> str:
    saved = None
    with contextlib.suppress(ApiError):
        saved = Credentials.load()
    url = option or os.environ.get("IAS_URL") or (saved.url if saved else None) or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise ApiError(f"the server URL must start with http:// or https://, got {url!r}")
    return url.rstrip("/")


def error_message(response: httpx.Response) -> str:
    """The API's own message (OpenAI's error envelope), or the status when there is none."""
    try:
        error = response.json().get("error", {})
        message = error.get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else f"the server answered {response.status_code}"


class ApiClient:
    """An authenticated client for one server; `anonymous` for login and invites."""

    def __init__(self, url: str, credentials: Credentials | None) -> None:
        self.url = url
        self.credentials = credentials
        self._http = httpx.Client(base_url=url, timeout=TIMEOUT_SECONDS)

    @classmethod
    def signed_in(cls, url_option: str | None) -> ApiClient:
        url = resolve_url(url_option)
        credentials = Credentials.load()
        if credentials is None:
            raise ApiError("you are not signed in; run `ias-admin login` first")
        if credentials.url != url:
            raise ApiError(
                f"you are signed in to {credentials.url}, not {url}; run "
                f"`ias-admin login --url {url}`"
            )
        return cls(url, credentials)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send one request; on 401 renew the login once and try again; raise on any failure."""
        response = self._send(method, path, **options)
        if response.status_code == 401 and self.credentials is not None:
            self._renew()
            response = self._send(method, path, **options)
            if response.status_code == 401:
                raise ApiError("your login is no longer valid; run `ias-admin login` again")
        if response.status_code >= 400:
            raise ApiError(error_message(response))
        return response

    def get(self, path: str, **params: Any) -> Any:
        clean = {name: value for name, value in params.items() if value is not None}
        return self.request("GET", path, params=clean).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.request("POST", path, json=body)
        return response.json() if response.content else None

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, json=body).json()

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = dict(options.pop("headers", {}) or {})
        if self.credentials is not None:
            headers["authorization"] = f"Bearer {self.credentials.access_token}"
        try:
            return self._http.request(method, path, headers=headers, **options)
        except httpx.TimeoutException:
            raise ApiError(f"{self.url} did not answer within {TIMEOUT_SECONDS:g} s") from None
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.url}: {_reason(exc)}") from None

    def _renew(self) -> None:
        credentials = self.credentials
        assert credentials is not None
        if not credentials.refresh_token:
            raise ApiError("your login has expired; run `ias-admin login` again")
        response = self._http.post(
            "/api/auth/refresh", json={"refresh_token": credentials.refresh_token}
        )
        if response.status_code != 200:
            raise ApiError("your login has expired; run `ias-admin login` again")
        credentials.access_token = response.json()["access_token"]
        credentials.refresh_token = _cookie(response)
        credentials.save()

    def login(self, email: str, password: str) -> Credentials:
        body = {"email": email, "password": password}
        response = self._send("POST", "/api/auth/login", json=body)
        if response.status_code != 200:
            raise ApiError(error_message(response))
        credentials = Credentials(
            self.url, email, response.json()["access_token"], _cookie(response)
        )
        self.credentials = credentials
        return credentials


def _cookie(response: httpx.Response) -> str | None:
    """The refresh token from Set-Cookie, read directly: it is marked Secure, and a cookie jar
    would drop it on a plain-HTTP loopback URL."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == REFRESH_COOKIE:
            return rest.split(";", 1)[0] or None
    return None


def _reason(exc: httpx.HTTPError) -> str:
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause) or type(cause).__name__
    if isinstance(cause, ConnectionRefusedError) or "refused" in text.lower():
        return "connection refused (is the server running?)"
    return text
