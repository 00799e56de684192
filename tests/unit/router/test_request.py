from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ias.errors import InvalidRequest
from ias.router.request import MAX_N, InferenceRequest, check_context, parse_request, upstream_body

CHAT = "chat/completions"
SALT = "0123456789abcdef0123456789abcdef"
# Fields the router reads, checks or rewrites; everything else is the backend's business.
MANAGED = {
    "model",
    "stream",
    "stream_options",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "cache_salt",
}
FORBIDDEN = ("api_base", "base_url", "api_key", "organization")


def parse(body: Any, endpoint: str = CHAT) -> InferenceRequest:
    return parse_request(orjson.dumps(body), endpoint)


def refusal(raw: bytes, endpoint: str = CHAT) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(raw, endpoint)
    error = caught.value
    assert type(error) is InvalidRequest
    assert error.status == 400
    assert error.type == "invalid_request_error"
    return error


def forwarded(request: InferenceRequest, upstream: str = "up-model", salt: str = SALT) -> Any:
    return orjson.loads(upstream_body(request, upstream, salt))


# --- parse_request: what a client is refused -------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b"", b"{", b'{"model": "m",}', b"{'model': 'm'}", b"\xff\xfe", b"NaN", b"model=m"]
)
def test_body_that_is_not_json_is_refused(raw: bytes) -> None:
    error = refusal(raw)
    assert error.code == "invalid_json"
    assert error.param is None
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("raw", [b"[]", b'[{"model":"m"}]', b'"m"', b"1", b"null", b"true"])
def test_json_that_is_not_an_object_is_refused(raw: bytes) -> None:
    error = refusal(raw)
    assert error.code == "invalid_type"
    assert error.param is None


@pytest.mark.parametrize("name", FORBIDDEN)
@pytest.mark.parametrize("value", ["http://169.254.169.254/latest", "", None, {"url": "x"}])
def test_fields_that_could_redirect_the_request_are_refused(name: str, value: Any) -> None:
    error = refusal(orjson.dumps({"model": "m", name: value, "messages": []}))
    assert error.param == name
    assert error.code == "forbidden_field"


def test_forbidden_field_is_refused_even_before_the_model_is_checked() -> None:
    error = refusal(orjson.dumps({"base_url": "http://evil.example"}))
    assert error.param == "base_url"


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"model": ""},
        {"model": None},
        {"model": 7},
        {"model": ["m"]},
        {"model": {"name": "m"}},
        {"model": True},
    ],
)
def test_missing_empty_or_non_string_model_is_refused(body: dict[str, Any]) -> None:
    error = refusal(orjson.dumps(body))
    assert error.param == "model"
    assert error.code == "missing_model"


@pytest.mark.parametrize("stream", ["true", 1, 0, "yes", [], {}])
def test_non_boolean_stream_is_refused(stream: Any) -> None:
    error = refusal(orjson.dumps({"model": "m", "stream": stream}))
    assert error.param == "stream"
    assert error.code == "invalid_type"


def test_null_stream_means_no_stream() -> None:
    assert parse({"model": "m", "stream": None}).stream is False


@pytest.mark.parametrize("stream", [False, None, "absent"])
def test_stream_options_without_stream_are_refused(stream: Any) -> None:
    body: dict[str, Any] = {"model": "m", "stream_options": {"include_usage": True}}
    if stream != "absent":
        body["stream"] = stream
    error = refusal(orjson.dumps(body))
    assert error.param == "stream_options"
    assert error.code == "invalid_value"


@pytest.mark.parametrize("options", [True, "include_usage", [], 1])
def test_stream_options_that_are_not_an_object_are_refused(options: Any) -> None:
    error = refusal(orjson.dumps({"model": "m", "stream": True, "stream_options": options}))
    assert error.param == "stream_options"
    assert error.code == "invalid_type"


def test_null_stream_options_are_accepted_without_stream() -> None:
    request = parse({"model": "m", "stream_options": None})
    assert (request.client_wants_usage, request.client_wants_continuous_usage) == (False, False)


@pytest.mark.parametrize(("n", "code"), [(0, "invalid_value"), (-1, "invalid_value")])
def test_n_below_one_is_refused(n: int, code: str) -> None:
    error = refusal(orjson.dumps({"model": "m", "n": n}))
    assert (error.param, error.code) == ("n", code)


def test_n_above_the_maximum_is_refused() -> None:
    error = refusal(orjson.dumps({"model": "m", "n": MAX_N + 1}))
    assert (error.param, error.code) == ("n", "invalid_value")
    assert str(MAX_N) in error.message


@pytest.mark.parametrize("n", ["2", True, False, 1.0, 2.5, [2], {"n": 2}])
def test_n_that_is_not_an_integer_is_refused(n: Any) -> None:
    error = refusal(orjson.dumps({"model": "m", "n": n}))
    assert (error.param, error.code) == ("n", "invalid_type")


@pytest.mark.parametrize(("n", "expected"), [(1, 1), (MAX_N, MAX_N), (None, 1), ("absent", 1)])
def test_n_in_range_or_absent_is_accepted(n: Any, expected: int) -> None:
    body: dict[str, Any] = {"model": "m"}
    if n != "absent":
        body["n"] = n
    assert parse(body).n == expected


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", [0, -1, -(2**40)])
def test_max_tokens_below_one_is_refused(name: str, value: int) -> None:
    error = refusal(orjson.dumps({"model": "m", name: value}))
    assert (error.param, error.code) == (name, "invalid_value")


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", ["16", 16.0, 1.5, True, [16], {"value": 16}])
def test_max_tokens_that_is_not_an_integer_is_refused(name: str, value: Any) -> None:
    error = refusal(orjson.dumps({"model": "m", name: value}))
    assert (error.param, error.code) == (name, "invalid_type")


def test_integer_too_large_for_json_integers_is_refused_not_crashed() -> None:
    error = refusal(b'{"model":"m","max_tokens":99999999999999999999999}')
    assert (error.param, error.code) == ("max_tokens", "invalid_type")


# --- parse_request: what an accepted request looks like ------------------------------------


def test_accepted_request_exposes_the_fields_the_router_needs() -> None:
    request = parse(
        {
            "model": "llama",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 64,
            "n": 2,
        }
    )
    assert request.endpoint == CHAT
    assert request.model == "llama"
    assert request.stream is True
    assert request.client_wants_usage is True
    assert request.client_wants_continuous_usage is False
    assert request.max_tokens == 64
    assert request.n == 2


def test_defaults_when_optional_fields_are_absent() -> None:
    request = parse({"model": "m", "prompt": "x"}, "completions")
    assert request.stream is False
    assert request.client_wants_usage is False
    assert request.client_wants_continuous_usage is False
    assert request.max_tokens is None
    assert request.n == 1


@pytest.mark.parametrize(
    ("options", "usage", "continuous"),
    [
        ({}, False, False),
        ({"include_usage": True}, True, False),
        ({"include_usage": False}, False, False),
        ({"continuous_usage_stats": True}, False, True),
        ({"include_usage": True, "continuous_usage_stats": True}, True, True),
    ],
)
def test_stream_options_record_what_the_client_asked_for(
    options: dict[str, Any], usage: bool, continuous: bool
) -> None:
    request = parse({"model": "m", "stream": True, "stream_options": options})
    assert request.client_wants_usage is usage
    assert request.client_wants_continuous_usage is continuous


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert parse({"model": "m", "max_completion_tokens": 10, "max_tokens": 500}).max_tokens == 10


def test_max_tokens_is_used_when_max_completion_tokens_is_null() -> None:
    assert parse({"model": "m", "max_completion_tokens": None, "max_tokens": 500}).max_tokens == 500


def test_embeddings_never_stream() -> None:
    request = parse({"model": "embed", "input": "x", "stream": True}, "embeddings")
    assert request.stream is False


def test_unknown_fields_are_kept_as_sent() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "héllo \u2603"}],
        "temperature": 0.7,
        "top_k": 40,
        "guided_json": {"type": "object"},
        "logit_bias": {"50256": -100},
        "x-vendor": None,
    }
    assert parse(body).body == body


# --- check_context ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "context_length"),
    [
        ({"model": "m"}, 4096),
        ({"model": "m", "max_tokens": 4096}, 4096),
        ({"model": "m", "max_tokens": 10**9}, None),
        ({"model": "m", "max_completion_tokens": 100}, 4096),
    ],
)
def test_requests_within_the_context_pass(body: dict[str, Any], context_length: int | None) -> None:
    check_context(parse(body), context_length)


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_above_the_context_length_is_refused(name: str) -> None:
    request = parse({"model": "m", name: 4097})
    with pytest.raises(InvalidRequest) as caught:
        check_context(request, 4096)
    error = caught.value
    assert error.status == 400
    assert (error.param, error.code) == (name, "context_length_exceeded")
    assert "4097" in error.message
    assert "4096" in error.message


def test_context_check_names_max_completion_tokens_when_both_are_given() -> None:
    request = parse({"model": "m", "max_completion_tokens": 9000, "max_tokens": 10})
    with pytest.raises(InvalidRequest) as caught:
        check_context(request, 4096)
    assert caught.value.param == "max_completion_tokens"
    assert "9000" in caught.value.message


def test_context_check_ignores_max_tokens_when_max_completion_tokens_is_given() -> None:
    check_context(parse({"model": "m", "max_completion_tokens": 10, "max_tokens": 9000}), 4096)


def test_context_check_names_max_tokens_when_max_completion_tokens_is_null() -> None:
    request = parse({"model": "m", "max_completion_tokens": None, "max_tokens": 9000})
    with pytest.raises(InvalidRequest) as caught:
        check_context(request, 4096)
    assert caught.value.param == "max_tokens"


# --- upstream_body ----------------------------------------------------------------------------


def test_model_becomes_the_backend_name() -> None:
    sent = forwarded(parse({"model": "public-name", "messages": []}), "org/upstream-7b")
    assert sent["model"] == "org/upstream-7b"


@pytest.mark.parametrize("endpoint", [CHAT, "completions"])
@pytest.mark.parametrize("client_salt", ["chosen-by-client", "", None, 12, {"salt": "x"}])
def test_cache_salt_always_comes_from_the_org(endpoint: str, client_salt: Any) -> None:
    request = parse({"model": "m", "cache_salt": client_salt}, endpoint)
    assert forwarded(request)["cache_salt"] == SALT


@pytest.mark.parametrize("endpoint", [CHAT, "completions"])
def test_cache_salt_is_added_when_the_client_sent_none(endpoint: str) -> None:
    assert forwarded(parse({"model": "m"}, endpoint))["cache_salt"] == SALT


@pytest.mark.parametrize("body", [{"model": "e", "input": "x"}, {"model": "e", "cache_salt": "c"}])
def test_embeddings_never_carry_a_cache_salt(body: dict[str, Any]) -> None:
    assert "cache_salt" not in forwarded(parse(body, "embeddings"))


@pytest.mark.parametrize(
    "options",
    [
        None,
        {},
        {"include_usage": False},
        {"include_usage": False, "continuous_usage_stats": False},
        {"include_usage": True, "continuous_usage_stats": True},
    ],
)
def test_streams_always_ask_the_backend_for_usage(options: dict[str, Any] | None) -> None:
    body: dict[str, Any] = {"model": "m", "stream": True}
    if options is not None:
        body["stream_options"] = options
    sent = forwarded(parse(body))
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}


def test_other_stream_options_of_the_client_are_kept() -> None:
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": False, "x": [1, 2]}}
    sent = forwarded(parse(body))
    assert sent["stream_options"] == {
        "include_usage": True,
        "continuous_usage_stats": True,
        "x": [1, 2],
    }


@pytest.mark.parametrize("endpoint", [CHAT, "completions", "embeddings"])
def test_requests_that_do_not_stream_get_no_stream_options(endpoint: str) -> None:
    assert "stream_options" not in forwarded(parse({"model": "m", "stream": False}, endpoint))
    assert "stream_options" not in forwarded(parse({"model": "m"}, endpoint))


def test_forwarding_leaves_the_parsed_request_untouched_for_a_retry() -> None:
    body = {"model": "m", "stream": True, "stream_options": {"x": 1}, "cache_salt": "mine"}
    request = parse(body)
    first = upstream_body(request, "up", SALT)
    second = upstream_body(request, "up", SALT)
    assert first == second
    assert request.body == body


def test_body_nested_250_levels_deep_is_forwarded() -> None:
    # orjson reads 1024 levels but writes at most 254: the boundary that matters below.
    nested = b'{"model":"m","x":' + b"[" * 250 + b"]" * 250 + b"}"
    assert orjson.loads(upstream_body(parse_request(nested, CHAT), "up", SALT))["x"]


@pytest.mark.parametrize("depth", [260, 1000])
def test_deeply_nested_body_is_a_client_error_not_a_crash(depth: int) -> None:
    nested = b'{"model":"m","x":' + b"[" * depth + b"]" * depth + b"}"
    # Refused as a client error at either step (both happen before the request is admitted),
    # or forwarded as valid JSON: never an unexpected exception.
    try:
        forwarded_body = upstream_body(parse_request(nested, CHAT), "up", SALT)
    except InvalidRequest:
        return
    orjson.loads(forwarded_body)


# --- properties -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
extra_fields = st.dictionaries(
    st.text(max_size=12).filter(lambda name: name not in MANAGED and name not in FORBIDDEN),
    json_values,
    max_size=6,
)
# Bodies that mix the fields the router checks with values of every JSON type.
field_names = st.sampled_from(
    [*sorted(MANAGED), *FORBIDDEN, "messages", "prompt", "input", "temperature"]
)
mixed_bodies = st.dictionaries(field_names, json_values, max_size=8)
raw_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(orjson.dumps),
    mixed_bodies.map(orjson.dumps),
    st.builds(lambda extra, body: {**extra, **body}, extra_fields, mixed_bodies).map(orjson.dumps),
)
endpoints = st.sampled_from([CHAT, "completions", "embeddings"])


@given(raw=raw_bodies, endpoint=endpoints)
def test_parse_request_accepts_or_refuses_with_a_400_and_nothing_else(
    raw: bytes, endpoint: str
) -> None:
    try:
        request = parse_request(raw, endpoint)
    except InvalidRequest:
        return  # a 400 (the class fixes the status)
    assert isinstance(request.model, str)
    assert request.model
    assert 1 <= request.n <= MAX_N
    assert request.max_tokens is None or request.max_tokens >= 1
    assert not any(name in request.body for name in FORBIDDEN)
    if endpoint == "embeddings":
        assert request.stream is False


@given(
    extra=extra_fields,
    model=st.text(min_size=1, max_size=20),
    upstream=st.text(min_size=1, max_size=20),
    stream=st.booleans(),
    options=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    client_salt=st.none() | json_values,
    endpoint=endpoints,
)
def test_upstream_body_is_json_and_keeps_every_field_it_does_not_manage(
    extra: dict[str, Any],
    model: str,
    upstream: str,
    stream: bool,
    options: dict[str, Any] | None,
    client_salt: Any,
    endpoint: str,
) -> None:
    body: dict[str, Any] = {**extra, "model": model, "stream": stream}
    if options is not None and stream and endpoint != "embeddings":
        body["stream_options"] = options
    if client_salt is not None:
        body["cache_salt"] = client_salt
    request = parse_request(orjson.dumps(body), endpoint)
    sent = orjson.loads(upstream_body(request, upstream, SALT))
    for name, value in extra.items():
        assert sent[name] == value
    assert sent["model"] == upstream
    assert sent["stream"] == stream
    if endpoint == "embeddings":
        assert "cache_salt" not in sent
    else:
        assert sent["cache_salt"] == SALT
    if request.stream:
        assert sent["stream_options"]["include_usage"] is True
        assert sent["stream_options"]["continuous_usage_stats"] is True
        for name, value in (options or {}).items():
            if name not in ("include_usage", "continuous_usage_stats"):
                assert sent["stream_options"][name] == value
    else:
        assert sent.get("stream_options") == body.get("stream_options")
    assert set(sent) - set(body) <= {"cache_salt", "stream_options"}


def _with_part(part: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}, part]}]}
    )


@pytest.mark.parametrize("kind", ["image_url", "audio_url", "video_url"])
@pytest.mark.parametrize(
    "value",
    [
        lambda url: {"url": url},
        lambda url: url,  # the short form some clients send
    ],
)
def test_media_parts_the_backend_would_fetch_are_refused(kind: str, value: Any) -> None:
    part = {"type": kind, kind: value("http://169.254.169.254/latest/meta-data")}
    with pytest.raises(InvalidRequest) as caught:
        parse_request(_with_part(part), "chat/completions")
    assert caught.value.code == "unsupported_url"
    assert caught.value.param == f"messages[0].content[1].{kind}"


def test_inline_media_passes() -> None:
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    request = parse_request(_with_part(part), "chat/completions")
    assert request.body["messages"][0]["content"][1] == part
