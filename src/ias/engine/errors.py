"""Errors exactly as vLLM's OpenAI server puts them on the wire.

vLLM answers ``{"error": {"message", "type", "param", "code"}}`` where `type` is an exception
class name (``BadRequestError``, ``NotFoundError``) and `code` is the integer HTTP status. That
differs from IAS's own envelope (`ias.errors`) on purpose: the router must cope with what a
real vLLM sends, so the engine that stands in for vLLM sends the same.
"""

from __future__ import annotations

from http import HTTPStatus

import orjson


def error_type(status: int) -> str:
    """vLLM-style type name for a status: 400 → BadRequestError, 503 → ServiceUnavailableError."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    name = "".join(word[:1].upper() + word[1:] for word in phrase.replace("-", " ").split())
    return name if name.endswith("Error") else f"{name}Error"


class EngineError(Exception):
    """A request the engine refuses; rendered once, before any response byte is sent."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        type_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.type_name = type_name or error_type(status)

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.type_name,
                    "param": self.param,
                    "code": self.status,
                }
            }
        )


def bad_request(message: str, param: str | None = None) -> EngineError:
    return EngineError(400, message, param=param)


def model_not_found(name: str) -> EngineError:
    return EngineError(404, f"The model `{name}` does not exist.", param="model")


def injected_failure(status: int) -> EngineError:
    return EngineError(status, f"Injected failure: the engine answered {status} as configured.")
