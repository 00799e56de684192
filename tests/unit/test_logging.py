from __future__ import annotations

import logging

import orjson
import pytest

from ias.kit.logging import JsonFormatter, TextFormatter, request_id_var


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("ias.test", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_line_has_level_logger_message_and_extras() -> None:
    line = JsonFormatter().format(_record("hello", org_id="o1"))
    entry = orjson.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "ias.test"
    assert entry["message"] == "hello"
    assert entry["org_id"] == "o1"
    assert entry["ts"].endswith("+00:00")
    assert "request_id" not in entry


def test_json_line_names_the_current_request() -> None:
    token = request_id_var.set("req_123")
    try:
        entry = orjson.loads(JsonFormatter().format(_record("inside")))
        text = TextFormatter().format(_record("inside"))
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "req_123"
    assert text.endswith("[req_123]")


def test_exceptions_are_one_json_line() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", None, sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad" in orjson.loads(line)["exception"]


def test_configure_logging_routes_uvicorn_through_one_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ias.kit.logging import configure_logging

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        logging.getLogger("uvicorn.error").info("started")
        err = capsys.readouterr().err.strip().splitlines()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert orjson.loads(err[-1])["message"] == "started"
