"""Backend URLs: what the router may be pointed at, checked and put in one canonical form.

Only http and https, always with a host, never with credentials, a query or a fragment, and
never an endpoint path (the router adds those). Messages never echo the whole URL back: it may
carry a password someone pasted by mistake.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from ias.errors import InvalidRequest

MAX_URL_LENGTH = 2048
_HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?")
_URL_EXAMPLE = "http://10.0.0.5:8000/v1"
_ENDPOINT_PATHS = ("/chat/completions", "/completions", "/embeddings")


def _bad_url(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="url", code="invalid_backend_url")


def _check_host(hostname: str, bracketed: bool) -> str:
    if bracketed:
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            raise _bad_url(f"'{hostname}' is not a valid IPv6 address.") from None
    if not all(_HOST_LABEL.fullmatch(label) for label in hostname.split(".")):
        raise _bad_url(f"'{hostname}' is not a valid host name.")
    return hostname


def _split(url: str) -> SplitResult:
    if not url:
        raise _bad_url(f"Give the backend's base URL, e.g. {_URL_EXAMPLE}.")
    if len(url) > MAX_URL_LENGTH:
        raise _bad_url(f"The backend URL is longer than {MAX_URL_LENGTH} characters.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise _bad_url("The backend URL must not contain spaces or control characters.")
    try:
        return urlsplit(url)
    except ValueError:  # a malformed bracketed (IPv6) host
        raise _bad_url(
            "The host of the backend URL is malformed; an IPv6 address goes in brackets, "
            "e.g. http://[fd00::5]:8000/v1."
        ) from None


def _port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _bad_url("The port of the backend URL must be a number from 1 to 65535.")
    return port


def normalise_backend_url(raw: str) -> str:
    """The canonical form of a backend's base URL, or a 400 saying what is wrong with it.

    Scheme and host are lower-cased and trailing slashes dropped, so one server is one URL.
    The URL is never echoed back whole: it may carry credentials.
    """
    url = raw.strip()
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if "://" not in url:
            raise _bad_url(
                f"The backend URL must start with http:// or https://, e.g. {_URL_EXAMPLE}."
            )
        raise _bad_url(f"Backends are reached over http or https, not '{scheme}'.")
    if "@" in parts.netloc:
        raise _bad_url(
            "Credentials do not belong in the backend URL (user:password@host): "
            "send the backend's key in the api_key field instead."
        )
    if "?" in url or "#" in url:
        raise _bad_url("The backend URL must not carry a query string (?...) or a fragment (#...).")
    if not parts.hostname:
        raise _bad_url(f"The backend URL must name a host, e.g. {_URL_EXAMPLE}.")
    port = _port(parts)
    host = _check_host(parts.hostname, bracketed=parts.netloc.startswith("["))
    path = parts.path.rstrip("/")
    if path.endswith(_ENDPOINT_PATHS):
        raise _bad_url(
            f"Give the backend's base URL (e.g. {_URL_EXAMPLE}), not one of its endpoints: "
            "the router adds /chat/completions, /completions or /embeddings itself."
        )
    return f"{scheme}://{host if port is None else f'{host}:{port}'}{path}"
