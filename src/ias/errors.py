"""The one error tree of IAS, and its wire shape.

Every error a client can see is an `IASError`; HTTP handlers render it as OpenAI's envelope
``{"error": {"message", "type", "param", "code"}}`` with the status and headers it carries::

    IASError
    ├── InvalidRequest        400  invalid_request_error
    │   ├── RequestTimeout    408  invalid_request_error
    │   └── PayloadTooLarge   413  invalid_request_error
    ├── Unauthorized          401  authentication_error
    ├── PermissionDenied      403  permission_error
    ├── NotFound              404  not_found_error
    ├── Conflict              409  conflict_error
    ├── RateLimited           429  rate_limit_error
    ├── QuotaExceeded         429  insufficient_quota
    ├── InternalError         500  server_error
    ├── UpstreamError         502  upstream_error
    ├── Unavailable           503  service_unavailable
    └── UpstreamTimeout       504  timeout_error

`StartupError` is separate: it stops a command with one line naming the problem (bad
configuration, unreachable database, port in use) and never reaches a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from ias.kit.logging import request_id_var


class IASError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers: dict[str, str] = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def body(self) -> bytes:
        return orjson.dumps(self.envelope())


class InvalidRequest(IASError):
    status = 400
    type = "invalid_request_error"


class RequestTimeout(InvalidRequest):
    status = 408
    default_code = "request_timeout"


class PayloadTooLarge(InvalidRequest):
    status = 413
    default_code = "payload_too_large"


class Unauthorized(IASError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(IASError):
    status = 403
    type = "permission_error"
    default_code = "permission_denied"


class NotFound(IASError):
    status = 404
    type = "not_found_error"
    default_code = "not_found"


class Conflict(IASError):
    status = 409
    type = "conflict_error"
    default_code = "conflict"


class RateLimited(IASError):
    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class QuotaExceeded(IASError):
    status = 429
    type = "insufficient_quota"
    default_code = "insufficient_quota"


class InternalError(IASError):
    status = 500
    type = "server_error"
    default_code = "internal_error"


class UpstreamError(IASError):
    status = 502
    type = "upstream_error"
    default_code = "bad_gateway"


class Unavailable(IASError):
    status = 503
    type = "service_unavailable"
    default_code = "service_unavailable"


class UpstreamTimeout(IASError):
    status = 504
    type = "timeout_error"
    default_code = "upstream_timeout"


def internal_error() -> InternalError:
    """The 500 for a bug: it names the request, so a report can be matched to the log line."""
    request_id = request_id_var.get() or "unknown"
    return InternalError(
        f"The server had an error while processing your request (request id {request_id})."
    )


class StartupError(Exception):
    """A process cannot start; the message is one line a person can act on."""
