from __future__ import annotations

import base64
import logging
import secrets
import sys

import jwt
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ias.contracts.api_keys import generate_key
from ias.kit.logging import JsonFormatter
from ias.kit.redaction import REDACTED, RedactionFilter, redact_text, redact_value


def _logged(
    message: str, *args: object, exc_info: object = None, **extra: object
) -> dict[str, object]:
    """What the JSON log line says once the filter has seen the record."""
    record = logging.LogRecord("ias.test", logging.INFO, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]
    for key, value in extra.items():
        setattr(record, key, value)
    assert RedactionFilter().filter(record) is True
    entry: dict[str, object] = orjson.loads(JsonFormatter().format(record))
    return entry


def _jwt() -> str:
    return jwt.encode({"sub": "user", "sid": "abc"}, secrets.token_hex(32), algorithm="HS256")


def test_an_api_key_is_redacted_in_the_message_and_its_arguments() -> None:
    key = generate_key()
    entry = _logged("key %s was used; also %s", key, f"prefix{key}suffix")
    assert key not in str(entry)
    assert entry["message"].count(REDACTED) == 2  # type: ignore[union-attr]


def test_a_jwt_is_redacted_wherever_it_appears() -> None:
    token = _jwt()
    entry = _logged(f"token {token} rejected", detail=f"cookie was {token}")
    assert token not in orjson.dumps(entry).decode()
    # The signature alone would be a secret too: nothing of the token is left.
    assert token.split(".")[2] not in orjson.dumps(entry).decode()


def test_an_unsigned_jwt_is_redacted() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(b'{"sub":"x"}').rstrip(b"=").decode()
    token = f"{header}.{body}."
    assert header not in redact_text(f"forged {token} seen")


def test_bearer_credentials_of_any_shape_are_redacted() -> None:
    opaque = secrets.token_urlsafe(32)
    text = redact_text(f"Authorization: Bearer {opaque}")
    assert opaque not in text
    assert "Authorization" in text
    assert opaque not in redact_text(f"header was 'bearer {opaque}'")


@pytest.mark.parametrize(
    "template",
    [
        "password={}",
        "password: {}",
        'login failed {{"password": "{}"}}',
        "client_secret={}&x=1",
        "refresh_token={}",
        "access_token: {}",
        "api_key={}",
        "API-KEY: {}",
        "authorization={}",
        "session cookie={}",
    ],
)
def test_named_secrets_in_text_are_redacted(template: str) -> None:
    value = secrets.token_urlsafe(12)
    text = redact_text(template.format(value))
    assert value not in text
    assert REDACTED in text


def test_a_password_in_a_url_is_redacted() -> None:
    text = redact_text("connecting to amqp://ias:hunter2secret@broker:5672/")
    assert "hunter2secret" not in text
    assert "amqp://ias:" in text
    assert "@broker:5672/" in text


def test_secret_fields_keep_their_name_and_lose_their_value() -> None:
    entry = _logged(
        "signed in",
        password="hunter2",
        access_token="abc",
        refresh_token="def",
        authorization="Bearer xyz",
        api_key="k",
        client_secret="s",
        token="t",
    )
    for name in ("password", "access_token", "refresh_token", "authorization", "api_key"):
        assert entry[name] == REDACTED
    assert entry["client_secret"] == REDACTED
    assert entry["token"] == REDACTED


def test_prompt_fields_are_dropped_even_when_nested() -> None:
    marker = secrets.token_hex(8)
    entry = _logged(
        "request",
        messages=[{"role": "user", "content": marker}],
        prompt=marker,
        input=[marker],
        body={"model": "m", "messages": [{"content": marker}], "password": "p"},
    )
    assert marker not in orjson.dumps(entry).decode()
    assert not {"messages", "prompt", "input"} & entry.keys()
    assert entry["body"] == {"model": "m", "password": REDACTED}


def test_counts_and_ordinary_fields_are_untouched() -> None:
    entry = _logged(
        "stored %d usage events for %s",
        12,
        "org-1",
        prompt_tokens=10,
        completion_tokens=20,
        max_tokens=30,
        model="demo-chat",
        event_id="0190c5a2-1b2c-7d3e-8f40-123456789abc",
    )
    assert entry["message"] == "stored 12 usage events for org-1"
    assert entry["prompt_tokens"] == 10
    assert entry["completion_tokens"] == 20
    assert entry["max_tokens"] == 30
    assert entry["model"] == "demo-chat"
    assert entry["event_id"] == "0190c5a2-1b2c-7d3e-8f40-123456789abc"


@pytest.mark.parametrize(
    "text",
    [
        "backend 4f1e... is healthy",
        "prompt_tokens=12 completion_tokens=3 max_tokens=100",
        "the secrets file was written to secrets.json",
        "usage message msg-1 (delivery tag 7) dead-lettered: not a version-1 usage event",
        "GET /api/orgs/0190c5a2-1b2c-7d3e-8f40-123456789abc/keys 200",
        "tokens: 12 in 0.5 s",
        "traceparent 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "ias_short is not a key",
    ],
)
def test_normal_text_is_untouched(text: str) -> None:
    assert redact_text(text) == text


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=200))
def test_text_without_secrets_survives_and_keys_never_do(text: str) -> None:
    key = generate_key()
    assert key not in redact_text(text + " " + key + " " + text)


def test_a_traceback_is_redacted() -> None:
    key = generate_key()
    try:
        raise ValueError(f"bad key {key}")
    except ValueError:
        entry = _logged("failed", exc_info=sys.exc_info())
    assert "ValueError" in entry["exception"]  # type: ignore[operator]
    assert key not in entry["exception"]  # type: ignore[operator]


def test_unformattable_records_keep_the_template_not_the_arguments() -> None:
    key = generate_key()
    entry = _logged("two %s %s", key)
    assert key not in str(entry)
    assert entry["message"] == "two %s %s"


def test_objects_are_scanned_as_they_would_be_written() -> None:
    key = generate_key()

    class Holder:
        def __str__(self) -> str:
            return f"Holder({key})"

    assert redact_value(Holder()) == f"Holder({REDACTED})"
