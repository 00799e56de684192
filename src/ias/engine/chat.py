"""`/v1/chat/completions`: a chat request becomes a `Job` with its body and its SSE chunks.

Streamed like vLLM: first one chunk per choice with ``{"role": "assistant", "content": ""}``,
then one chunk per generated token (several choices interleave, one token each per step); the
chunk of a choice's last token carries its `finish_reason`. A tool call streams as a first chunk
naming the function, then one chunk per token of its arguments.
"""

from __future__ import annotations

import os
import time
from typing import Any

import orjson

from ias.engine.behaviour import behaviour_for, parse_mock
from ias.engine.catalog import CHAT, Catalog
from ias.engine.chat_request import (
    read_messages,
    read_response_format,
    read_tools,
    read_top_logprobs,
)
from ias.engine.config import EngineConfig
from ias.engine.fields import Json
from ias.engine.generation import GeneratedChoice
from ias.engine.job import Answer, Job, StreamFormat, assemble, usage
from ias.engine.logprobs import chat_logprobs
from ias.engine.sampling import generate_choices, parse_sampling, token_limit

_MAX_TOKEN_FIELDS = ("max_completion_tokens", "max_tokens")


def _message(choice: GeneratedChoice) -> dict[str, Any]:
    if choice.tool_name is None:
        return {"role": "assistant", "content": choice.text, "refusal": None}
    call = {
        "id": choice.tool_call_id,
        "type": "function",
        "function": {"name": choice.tool_name, "arguments": "".join(choice.tokens[1:])},
    }
    return {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}


def render_chat(
    response_id: str,
    model: str,
    prompt_tokens: int,
    choices: list[GeneratedChoice],
    top_logprobs: int | None,
) -> bytes:
    rendered = [
        {
            "index": choice.index,
            "message": _message(choice),
            "logprobs": None if top_logprobs is None else chat_logprobs(choice, top_logprobs),
            "finish_reason": choice.finish_reason,
            "stop_reason": None,
        }
        for choice in choices
    ]
    completion_tokens = sum(len(choice.tokens) for choice in choices)
    return orjson.dumps(
        {
            "id": response_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": rendered,
            "usage": usage(prompt_tokens, completion_tokens),
        }
    )


class ChatStream(StreamFormat):
    object_name = "chat.completion.chunk"

    def opening(self) -> list[bytes]:
        return [
            self.chunk(
                {
                    "index": choice.index,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                },
                0,
            )
            for choice in self.choices
        ]

    def token_chunk(self, choice: GeneratedChoice, position: int) -> bytes:
        delta: dict[str, Any]
        if choice.tool_name is None:
            delta = {"content": choice.deltas[position]}
        elif position == 0:
            call = {"index": 0, "id": choice.tool_call_id, "type": "function"}
            call["function"] = {"name": choice.tool_name, "arguments": ""}
            delta = {"tool_calls": [call]}
        else:
            delta = {
                "tool_calls": [{"index": 0, "function": {"arguments": choice.deltas[position]}}]
            }
        logprobs = None
        if self.top_logprobs is not None:
            logprobs = chat_logprobs(choice, self.top_logprobs, position, position + 1)
        last = position == len(choice.tokens) - 1
        rendered = {"index": choice.index, "delta": delta, "logprobs": logprobs}
        rendered["finish_reason"] = choice.finish_reason if last else None
        if last:
            rendered["stop_reason"] = None
        return self.chunk(rendered, position + 1)


def build_chat_job(body: Json, request_id: str, config: EngineConfig, catalog: Catalog) -> Job:
    model = catalog.resolve(body.get("model"), CHAT)
    prompt = read_messages(body)
    tool_shape, tool_tokens = read_tools(body)
    shape = tool_shape or read_response_format(body)
    top_logprobs = read_top_logprobs(body)
    sampling = parse_sampling(
        body, max_token_fields=_MAX_TOKEN_FIELDS, default_max_tokens=None, seed=config.seed
    )
    mock = parse_mock(body)
    prompt_tokens = prompt.tokens + tool_tokens
    limit = token_limit(prompt_tokens, sampling.max_tokens, config.max_model_len)
    choices = generate_choices(
        model=model, prompt_key=prompt.key, sampling=sampling, limit=limit, shape=shape
    )
    for choice in choices:
        if choice.tool_name is not None:
            choice.tool_call_id = f"chatcmpl-tool-{os.urandom(16).hex()}"
    answer = Answer(CHAT, model, f"chatcmpl-{request_id}", prompt_tokens, choices, top_logprobs)
    stream = ChatStream if sampling.stream else None
    behaviour = behaviour_for(config, mock, prompt_tokens)
    return assemble(answer, behaviour, render_chat, stream, sampling.stream_options)
