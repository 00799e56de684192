"""Reading and checking an inference request: the body is parsed once, with orjson.

Only the fields the router needs are looked at (`model`, `stream`, `stream_options`, `n`,
`max_tokens` / `max_completion_tokens`); everything else goes to the backend untouched. The
forwarded body differs from the client's in exactly three ways: `model` becomes the backend's
name for it, `cache_salt` is set from the org (never from the client), and streams always ask
for usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ias.errors import InvalidRequest

MAX_N = 128
# A client must never steer the router or the backend to another server (SSRF).
_FORBIDDEN_FIELDS = ("api_base", "base_url", "api_key", "organization")
# Content parts a multimodal backend (vLLM) fetches when given a URL: from inside the cluster,
# so only inline `data:` URLs are passed on.
_MEDIA_PARTS = ("image_url", "audio_url", "video_url")


@dataclass(slots=True)
class InferenceRequest:
    endpoint: str
    body: dict[str, Any]
    model: str
    stream: bool
    client_wants_usage: bool
    client_wants_continuous_usage: bool
    max_tokens: int | None
    n: int


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _optional_int(body: dict[str, Any], name: str, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(f"'{name}' must be an integer.", name, "invalid_type")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid(f"'{name}' must be {bound}; got {value}.", name)
    return value


def _stream_options(body: dict[str, Any], stream: bool) -> tuple[bool, bool]:
    options = body.get("stream_options")
    if options is None:
        return False, False
    if not isinstance(options, dict):
        raise _invalid("'stream_options' must be an object.", "stream_options", "invalid_type")
    if not stream:
        raise _invalid("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    return bool(options.get("include_usage")), bool(options.get("continuous_usage_stats"))


def parse_request(raw: bytes, endpoint: str) -> InferenceRequest:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _invalid(
            f"The request body is not valid JSON ({exc.msg} at position {exc.pos}).",
            None,
            "invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.", None, "invalid_type")
    for name in _FORBIDDEN_FIELDS:
        if name in body:
            raise _invalid(f"'{name}' cannot be set in a request body.", name, "forbidden_field")
    if b"_url" in raw:  # a cheap look first: almost no request carries media
        _check_media_urls(body.get("messages"))
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("You must provide a model parameter.", "model", "missing_model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise _invalid("'stream' must be a boolean.", "stream", "invalid_type")
    if endpoint == "embeddings":
        stream, wants_usage, wants_continuous = False, False, False
    else:
        stream = bool(stream)
        wants_usage, wants_continuous = _stream_options(body, stream)
    newer = _optional_int(body, "max_completion_tokens", 1, None)
    older = _optional_int(body, "max_tokens", 1, None)
    max_tokens = newer if newer is not None else older
    n = _optional_int(body, "n", 1, MAX_N) or 1
    return InferenceRequest(
        endpoint, body, model, stream, wants_usage, wants_continuous, max_tokens, n
    )


def _check_media_urls(messages: Any) -> None:
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for position, part in enumerate(content):
            if not isinstance(part, dict):
                continue
            for kind in _MEDIA_PARTS:
                media = part.get(kind)
                url = media.get("url") if isinstance(media, dict) else media
                if url is None or (isinstance(url, str) and url.startswith("data:")):
                    continue
                raise _invalid(
                    f"'{kind}' must be a data: URL with the content inline; the server does "
                    "not fetch URLs on a client's behalf.",
                    f"messages[{index}].content[{position}].{kind}",
                    "unsupported_url",
                )


def check_context(request: InferenceRequest, context_length: int | None) -> None:
    wanted = request.max_tokens
    if context_length is None or wanted is None or wanted <= context_length:
        return
    uses_new_name = request.body.get("max_completion_tokens") is not None
    param = "max_completion_tokens" if uses_new_name else "max_tokens"
    raise _invalid(
        f"'{param}' is {wanted}, but this model's maximum context length is "
        f"{context_length} tokens.",
        param,
        "context_length_exceeded",
    )


def upstream_body(request: InferenceRequest, upstream_model: str, cache_salt: str) -> bytes:
    body = dict(request.body)
    body["model"] = upstream_model
    body.pop("cache_salt", None)
    if request.endpoint != "embeddings":
        body["cache_salt"] = cache_salt
    if request.stream:
        # Always ask for usage, per chunk too, so a stream cut short is still billed exactly.
        body["stream_options"] = {
            **(body.get("stream_options") or {}),
            "include_usage": True,
            "continuous_usage_stats": True,
        }
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        # orjson reads deeper nesting than it writes; such a body is not worth forwarding.
        raise _invalid("The request body is nested too deeply.", None, "invalid_json") from None
