"""The request fields chat and legacy completions share: length, choices, stops, seed, stream.

`temperature`, `top_p`, penalties and other sampling knobs are accepted and ignored: the output
is deterministic whatever they say, which is the point of a test engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from ias.engine.errors import EngineError, bad_request
from ias.engine.fields import Json, as_object, optional_bool, optional_int, string_list
from ias.engine.generation import PROSE, GeneratedChoice, OutputShape, generate_choice

MAX_CHOICES = 128
_INT64 = 2**63


@dataclass(frozen=True, slots=True)
class StreamOptions:
    include_usage: bool = False
    # Like vLLM, a running usage on every chunk needs `include_usage` as well.
    continuous_usage: bool = False


NO_STREAM_OPTIONS = StreamOptions()


@dataclass(frozen=True, slots=True)
class Sampling:
    max_tokens: int | None
    n: int
    stops: tuple[str, ...]
    seed: str  # the engine's and the request's seed, as key material for generation
    stream: bool
    stream_options: StreamOptions


def _stream_options(body: Json, stream: bool) -> StreamOptions:
    raw = body.get("stream_options")
    if raw is None:
        return NO_STREAM_OPTIONS
    if not stream:
        raise bad_request(
            "Stream options can only be defined when `stream=True`.", "stream_options"
        )
    options = as_object(raw, "stream_options")
    include_usage = bool(optional_bool(options, "include_usage", within="stream_options"))
    continuous = bool(optional_bool(options, "continuous_usage_stats", within="stream_options"))
    return StreamOptions(include_usage, include_usage and continuous)


def _max_tokens(body: Json, names: tuple[str, ...], default: int | None) -> int | None:
    # The first field present wins: chat prefers `max_completion_tokens` over `max_tokens`.
    for name in names:
        value = optional_int(body, name, minimum=1)
        if value is not None:
            return value
    return default


def parse_sampling(
    body: Json, *, max_token_fields: tuple[str, ...], default_max_tokens: int | None, seed: int
) -> Sampling:
    stream = bool(optional_bool(body, "stream"))
    request_seed = optional_int(body, "seed", minimum=-_INT64, maximum=_INT64 - 1)
    return Sampling(
        max_tokens=_max_tokens(body, max_token_fields, default_max_tokens),
        n=optional_int(body, "n", minimum=1, maximum=MAX_CHOICES) or 1,
        stops=string_list(body, "stop"),
        seed=f"{seed}/{request_seed}",
        stream=stream,
        stream_options=_stream_options(body, stream),
    )


def token_limit(prompt_tokens: int, max_tokens: int | None, max_model_len: int) -> int:
    """How many tokens a choice may generate; refuses what vLLM refuses, with its words."""
    if prompt_tokens >= max_model_len:
        raise EngineError(
            400,
            f"This model's maximum context length is {max_model_len} tokens. However, your "
            f"request has {prompt_tokens} input tokens. Please reduce the length of the input "
            "messages.",
            param="input_tokens",
        )
    room = max_model_len - prompt_tokens
    if max_tokens is None:
        return room
    if max_tokens > room:
        raise EngineError(
            400,
            f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's "
            f"maximum context length is {max_model_len} tokens and your request has "
            f"{prompt_tokens} input tokens ({max_tokens} > {max_model_len} - {prompt_tokens}).",
            param="max_tokens",
        )
    return max_tokens


def generate_choices(
    *,
    model: str,
    prompt_key: str,
    sampling: Sampling,
    limit: int,
    shape: OutputShape = PROSE,
    first_index: int = 0,
) -> list[GeneratedChoice]:
    """The `n` choices for one prompt, numbered from `first_index` (several prompts share `n`)."""
    choices: list[GeneratedChoice] = []
    for offset in range(sampling.n):
        choice = generate_choice(
            model=model,
            prompt_key=prompt_key,
            seed=sampling.seed,
            index=offset,
            limit=limit,
            stops=sampling.stops,
            shape=shape,
        )
        choice.index = first_index + offset
        choices.append(choice)
    return choices
