from __future__ import annotations

import orjson
import pytest

from ias import errors


@pytest.mark.parametrize(
    ("cls", "status", "type_"),
    [
        (errors.InvalidRequest, 400, "invalid_request_error"),
        (errors.PayloadTooLarge, 413, "invalid_request_error"),
        (errors.Unauthorized, 401, "authentication_error"),
        (errors.PermissionDenied, 403, "permission_error"),
        (errors.NotFound, 404, "not_found_error"),
        (errors.Conflict, 409, "conflict_error"),
        (errors.RateLimited, 429, "rate_limit_error"),
        (errors.QuotaExceeded, 429, "insufficient_quota"),
        (errors.InternalError, 500, "server_error"),
        (errors.UpstreamError, 502, "upstream_error"),
        (errors.Unavailable, 503, "service_unavailable"),
        (errors.UpstreamTimeout, 504, "timeout_error"),
    ],
)
def test_every_error_renders_openai_envelope(
    cls: type[errors.IASError], status: int, type_: str
) -> None:
    error = cls("Something is off.", param="model")
    assert error.status == status
    body = orjson.loads(error.body())
    assert body == {
        "error": {
            "message": "Something is off.",
            "type": type_,
            "param": "model",
            "code": cls.default_code,
        }
    }


def test_explicit_code_and_headers_are_kept() -> None:
    error = errors.RateLimited("Slow down.", code="requests", headers={"retry-after": "2"})
    assert error.envelope()["error"]["code"] == "requests"
    assert error.headers == {"retry-after": "2"}


def test_startup_error_is_not_a_client_error() -> None:
    assert not issubclass(errors.StartupError, errors.IASError)
