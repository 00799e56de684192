"""What the control plane's OpenAPI document says about errors.

Every operation documents the OpenAI error envelope for the statuses it can return, always as
JSON (FastAPI would file it under the media type of an operation that answers CSV). FastAPI's
default 422 entries are removed: request validation answers 400 here, like OpenAI's API.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


_MEANINGS = {
    400: "The request is malformed or breaks a rule; the message says which.",
    401: "Missing, invalid or expired credentials.",
    403: "Signed in, but your role does not allow this.",
    404: "No such object, or it belongs to an organization you are not in.",
    409: "Conflicts with the current state (duplicate, already used, last owner…).",
    413: "The request body is too large.",
    429: "Too many attempts; see the retry-after header.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text} for status, text in _MEANINGS.items()
}

_ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


def _errors_as_json(responses: dict[str, Any]) -> None:
    for response in responses.values():
        content = response.get("content", {})
        if any(media.get("schema", {}).get("$ref") == _ENVELOPE_REF for media in content.values()):
            response["content"] = {"application/json": {"schema": {"$ref": _ENVELOPE_REF}}}


def install_openapi(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(
                title=api.title,
                version=api.version,
                summary=api.summary,
                routes=api.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
                    _errors_as_json(operation.get("responses", {}))
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
