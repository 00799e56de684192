"""A prepared request: everything generated up front, ready to be paced out to the client.

Output is deterministic, so it is computed completely before the first byte; serving a request
is then only a matter of timing, pacing and failure injection (`serving.py`), and the body
shapes live with their endpoints (`chat.py`, `completions.py`, `embeddings.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ias.engine.behaviour import Behaviour
from ias.engine.generation import GeneratedChoice
from ias.engine.sampling import StreamOptions

DONE = b"data: [DONE]\n\n"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens": completion_tokens,
    }


def sse_frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class StreamFormat:
    """The SSE chunks of one streamed response; endpoints fill in what a chunk's choice says.

    Usage rules (OpenAI's, and vLLM's for the running usage): with `include_usage` every chunk
    has ``"usage": null`` and a last chunk with ``"choices": []`` carries the total; with
    `continuous_usage_stats` too, every chunk carries the usage so far of the choice it
    carries, as vLLM counts it.
    """

    object_name = ""

    def __init__(
        self,
        response_id: str,
        created: int,
        model: str,
        prompt_tokens: int,
        options: StreamOptions,
        choices: list[GeneratedChoice],
        top_logprobs: int | None = None,
    ) -> None:
        self._head = {"id": response_id, "object": self.object_name, "created": created}
        self._head["model"] = model
        self._prompt_tokens = prompt_tokens
        self._options = options
        self.choices = choices
        self.top_logprobs = top_logprobs  # None: no logprobs were asked for

    def chunk(self, choice: dict[str, Any], completion_tokens: int) -> bytes:
        payload = {**self._head, "choices": [choice]}
        if self._options.continuous_usage:
            payload["usage"] = usage(self._prompt_tokens, completion_tokens)
        elif self._options.include_usage:
            payload["usage"] = None
        return sse_frame(payload)

    def opening(self) -> list[bytes]:
        """Chunks sent before the first token."""
        return []

    def token_chunk(self, choice: GeneratedChoice, position: int) -> bytes:
        raise NotImplementedError

    def closing(self, completion_tokens: int) -> bytes:
        """The usage chunk, if asked for, and `[DONE]`."""
        if not self._options.include_usage:
            return DONE
        final = {
            **self._head,
            "choices": [],
            "usage": usage(self._prompt_tokens, completion_tokens),
        }
        return sse_frame(final) + DONE


@dataclass(slots=True)
class Job:
    endpoint: str
    model: str
    prompt_tokens: int
    choices: list[GeneratedChoice]
    behaviour: Behaviour
    render: Callable[[], bytes]  # the whole JSON body when the response is not streamed
    stream: StreamFormat | None = None

    @property
    def completion_tokens(self) -> int:
        return sum(len(choice.tokens) for choice in self.choices)

    @property
    def steps(self) -> int:
        """Decoding steps: each step yields one token of every unfinished choice."""
        return max((len(choice.tokens) for choice in self.choices), default=0)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a generation endpoint decided; `assemble` turns it into a job in one way for all."""

    endpoint: str
    model: str
    response_id: str
    prompt_tokens: int
    choices: list[GeneratedChoice]
    top_logprobs: int | None


def assemble(
    answer: Answer,
    behaviour: Behaviour,
    render: Callable[[str, str, int, list[GeneratedChoice], int | None], bytes],
    stream_format: type[StreamFormat] | None,
    options: StreamOptions,
) -> Job:
    """The job for `answer`: rendered whole, or streamed with `stream_format` when given."""
    job = Job(
        endpoint=answer.endpoint,
        model=answer.model,
        prompt_tokens=answer.prompt_tokens,
        choices=answer.choices,
        behaviour=behaviour,
        render=lambda: render(
            answer.response_id,
            answer.model,
            answer.prompt_tokens,
            answer.choices,
            answer.top_logprobs,
        ),
    )
    if stream_format is not None:
        job.stream = stream_format(
            answer.response_id,
            int(time.time()),
            answer.model,
            answer.prompt_tokens,
            options,
            answer.choices,
            answer.top_logprobs,
        )
    return job
