"""`/v1/completions` (legacy): one or more prompts become a `Job` with its body and chunks.

As in vLLM: `max_tokens` defaults to 16; `prompt` may be a string, a list of strings, a list of
token ids or a list of such lists; with several prompts, choice `p * n + i` is the i-th choice of
prompt p. Streams carry no role chunk; the chunk of a choice's last token has its finish_reason.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from ias.engine.behaviour import behaviour_for, parse_mock
from ias.engine.catalog import COMPLETIONS, Catalog
from ias.engine.config import EngineConfig
from ias.engine.errors import bad_request
from ias.engine.fields import Json, optional_int
from ias.engine.generation import GeneratedChoice
from ias.engine.job import Answer, Job, StreamFormat, assemble, usage
from ias.engine.logprobs import completion_logprobs
from ias.engine.sampling import Sampling, generate_choices, parse_sampling, token_limit
from ias.engine.tokenizer import count_tokens

DEFAULT_MAX_TOKENS = 16
MAX_LOGPROBS = 20


def _is_token_ids(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    )


def read_prompts(prompt: Any, param: str = "prompt") -> list[tuple[str, int]]:
    """Each prompt (or embedding input) as (key that seeds its output, its tokens)."""
    if isinstance(prompt, str) and prompt:
        return [(prompt, count_tokens(prompt))]
    if _is_token_ids(prompt):
        return [(f"ids:{prompt}", len(prompt))]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(item, str) and item for item in prompt):
            return [(item, count_tokens(item)) for item in prompt]
        if all(_is_token_ids(item) for item in prompt):
            return [(f"ids:{item}", len(item)) for item in prompt]
    raise bad_request(
        f"`{param}` must be a non-empty string, list of strings, list of token ids or list of "
        "lists of token ids.",
        param,
    )


def _choice(choice: GeneratedChoice, top: int | None) -> dict[str, Any]:
    return {
        "index": choice.index,
        "text": choice.text,
        "logprobs": None if top is None else completion_logprobs(choice, top),
        "finish_reason": choice.finish_reason,
        "stop_reason": None,
    }


def render_completion(
    response_id: str,
    model: str,
    prompt_tokens: int,
    choices: list[GeneratedChoice],
    top_logprobs: int | None,
) -> bytes:
    completion_tokens = sum(len(choice.tokens) for choice in choices)
    return orjson.dumps(
        {
            "id": response_id,
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": [_choice(choice, top_logprobs) for choice in choices],
            "usage": usage(prompt_tokens, completion_tokens),
        }
    )


class CompletionStream(StreamFormat):
    object_name = "text_completion"

    def token_chunk(self, choice: GeneratedChoice, position: int) -> bytes:
        logprobs = None
        if self.top_logprobs is not None:
            offset = sum(len(delta) for delta in choice.deltas[:position])
            logprobs = completion_logprobs(
                choice, self.top_logprobs, position, position + 1, offset
            )
        last = position == len(choice.tokens) - 1
        rendered = {
            "index": choice.index,
            "text": choice.deltas[position],
            "logprobs": logprobs,
            "finish_reason": choice.finish_reason if last else None,
            "stop_reason": None,
        }
        return self.chunk(rendered, position + 1)


def _choices(
    prompts: list[tuple[str, int]], model: str, sampling: Sampling, max_model_len: int
) -> list[GeneratedChoice]:
    choices: list[GeneratedChoice] = []
    for number, (key, tokens) in enumerate(prompts):
        limit = token_limit(tokens, sampling.max_tokens, max_model_len)
        choices += generate_choices(
            model=model,
            prompt_key=key,
            sampling=sampling,
            limit=limit,
            first_index=number * sampling.n,
        )
    return choices


def build_completion_job(
    body: Json, request_id: str, config: EngineConfig, catalog: Catalog
) -> Job:
    model = catalog.resolve(body.get("model"), COMPLETIONS)
    prompts = read_prompts(body.get("prompt"))
    top_logprobs = optional_int(body, "logprobs", minimum=0, maximum=MAX_LOGPROBS)
    sampling = parse_sampling(
        body,
        max_token_fields=("max_tokens",),
        default_max_tokens=DEFAULT_MAX_TOKENS,
        seed=config.seed,
    )
    mock = parse_mock(body)
    choices = _choices(prompts, model, sampling, config.max_model_len)
    prompt_tokens = sum(tokens for _, tokens in prompts)
    answer = Answer(COMPLETIONS, model, f"cmpl-{request_id}", prompt_tokens, choices, top_logprobs)
    stream = CompletionStream if sampling.stream else None
    behaviour = behaviour_for(config, mock, prompt_tokens)
    return assemble(answer, behaviour, render_completion, stream, sampling.stream_options)
