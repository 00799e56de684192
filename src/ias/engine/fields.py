"""Typed readers for fields of a parsed JSON body, failing with a 400 that names the field.

Hand-written instead of pydantic because the engine is the backend of router benchmarks: a
handful of dict lookups costs microseconds where a model validation costs tens of them.
Integers accept integral floats (``5.0``) as pydantic's lax mode, and so vLLM, does. A field
of a nested object is read with `within` set to the object's name, so the error's `param`
names the full path (``mock.delay``).
"""

from __future__ import annotations

from typing import Any

from ias.engine.errors import bad_request

Json = dict[str, Any]


def _param(within: str, name: str) -> str:
    return f"{within}.{name}" if within else name


def as_object(value: Any, name: str) -> Json:
    if not isinstance(value, dict):
        raise bad_request(f"`{name}` must be an object.", name)
    return value


def optional_int(
    body: Json,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    within: str = "",
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    param = _param(within, name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"`{param}` must be an integer.", param)
    if minimum is not None and value < minimum:
        raise bad_request(f"`{param}` must be at least {minimum}, got {value}.", param)
    if maximum is not None and value > maximum:
        raise bad_request(f"`{param}` must be at most {maximum}, got {value}.", param)
    return value


def optional_number(
    body: Json, name: str, *, minimum: float = 0.0, within: str = ""
) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    param = _param(within, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"`{param}` must be a number.", param)
    if value < minimum:
        raise bad_request(f"`{param}` must be at least {minimum}, got {value}.", param)
    return float(value)


def optional_bool(body: Json, name: str, *, within: str = "") -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    param = _param(within, name)
    raise bad_request(f"`{param}` must be a boolean.", param)


def string_list(body: Json, name: str) -> tuple[str, ...]:
    """A field that is a string or a list of strings (like `stop`); absent means empty."""
    value = body.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item for item in value if item)
    raise bad_request(f"`{name}` must be a string or a list of strings.", name)
