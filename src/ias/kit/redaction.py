"""Secrets and prompt text never reach a log line, whoever logged them.

`RedactionFilter` sits on the root handler, so it sees every record of every logger (ours,
uvicorn's, SQLAlchemy's, a library's) just before it is written. It rewrites:

* the message and any formatted traceback: IAS API keys, JWTs, bearer credentials, passwords
  in URLs, and values written as `password=...`, `token: ...`, `"api_key": "..."`;
* fields passed with `extra=`: a field named like a secret (`password`, `secret`, `token`,
  `authorization`, `api_key`, `cookie`, ...) keeps its name with a redacted value; a field
  holding prompt text (`messages`, `prompt`, `input`) is dropped; other strings are scanned as
  the message is, nested dicts and lists too.

Redaction replaces a value with `[REDACTED]`, so the line still says something was there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

# ias_ + 32 base62 + 6 base62 checksum (contracts.api_keys); a longer run is matched whole, so
# a key glued to other characters is still covered.
_API_KEY = re.compile(r"ias_[0-9A-Za-z]{38,}")
# A JWT: base64url JSON header (always starts `{"` → `eyJ`), payload, optional signature.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(@)")
# A pattern naming secrets, not a secret.
_SECRET_NAME = r"[A-Za-z0-9_-]*(?:password|passwd|secret|token|authorization|api[_-]?key|cookie)"  # noqa: S105
# `name=value`, `name: value`, `"name": "value"`; the value runs to a quote, space or separator.
_NAMED_SECRET = re.compile(
    rf"(?i)(\b{_SECRET_NAME}[\"']?\s*[=:]\s*[\"']?)(?:Bearer\s+)?(?:\[REDACTED\]|[^\s\"',;&}}\]]+)"
)
# Field names: a secret anywhere in the name, or a token (but not counts like prompt_tokens).
_SECRET_FIELD = re.compile(
    r"(?i)(password|passwd|secret|authorization|api[_-]?key|apikey|cookie|credential|"
    r"(^|_)token$|^jwt$)"
)
# Request content: never logged, not even redacted.
PROMPT_FIELDS = frozenset({"messages", "prompt", "prompts", "input", "inputs"})
_MAX_DEPTH = 6
# Attributes every LogRecord has; anything else was passed with `extra=`.
# uvicorn's `color_message` repeats the message with terminal escapes: never logged.
STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message"}
)


def redact_text(text: str) -> str:
    """`text` with every secret it holds replaced by `[REDACTED]`."""
    if not text:
        return text
    text = _API_KEY.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1\2{REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\2", text)
    return _NAMED_SECRET.sub(rf"\1{REDACTED}", text)


def is_secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(name) is not None


def redact_value(value: Any, depth: int = 0) -> Any:
    """A value with secrets redacted and prompt fields dropped, containers included."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Mapping):
        return _redact_mapping(value, depth + 1)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    # Anything else is logged as its str(), so that is what gets scanned.
    return redact_text(str(value))


def _redact_mapping(mapping: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in mapping.items():
        name = str(key)
        if name.lower() in PROMPT_FIELDS:
            continue
        clean[name] = REDACTED if is_secret_field(name) else redact_value(value, depth)
    return clean


class RedactionFilter(logging.Filter):
    """Rewrites each record in place; never drops one."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template, never the arguments
            message = str(record.msg)
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for name in [name for name in record.__dict__ if name not in STANDARD_ATTRS]:
            if name.lower() in PROMPT_FIELDS:
                delattr(record, name)
            elif is_secret_field(name):
                setattr(record, name, REDACTED)
            else:
                setattr(record, name, redact_value(getattr(record, name)))
        return True
