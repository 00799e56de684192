"""Streaming chat completions against one OpenAI-compatible URL, `concurrency` at a time.

The same client code drives both arms (vLLM directly, and the IAS router in front of it), so
whatever it costs is paid equally. Every request streams with `include_usage`, `temperature` 0
and `ignore_eos`, so each generates exactly `max_tokens` tokens and the arms do the same work.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import orjson

PROMPTS = (
    "Write a short poem about the sea.",
    "Explain what a hash table is.",
    "Give me three tips for learning to cook.",
    "Describe a sunrise over the mountains.",
    "What makes a good cup of tea?",
    "Tell a story about a robot who learns to paint.",
    "List some reasons to visit a library.",
    "Why is the sky blue? Explain simply.",
)


@dataclass(frozen=True, slots=True)
class Sample:
    ttft: float  # seconds from sending the request to the first content token
    seconds: float  # the whole request
    completion_tokens: int  # from the usage chunk


@dataclass(frozen=True, slots=True)
class Phase:
    concurrency: int
    wall_seconds: float
    samples: tuple[Sample, ...]

    @property
    def tokens(self) -> int:
        return sum(sample.completion_tokens for sample in self.samples)

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second, all streams together."""
        return self.tokens / self.wall_seconds


async def _one(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes
) -> Sample:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    async with session.post(url, data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {await response.text()}")
        buffer = b""
        async for piece in response.content.iter_any():
            buffer += piece
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if not event.startswith(b"data: ") or event == b"data: [DONE]":
                    continue
                chunk = orjson.loads(event[6:])
                choices = chunk.get("choices") or []
                if first is None and choices and choices[0].get("delta", {}).get("content"):
                    first = time.perf_counter()
                if chunk.get("usage"):
                    tokens = int(chunk["usage"]["completion_tokens"])
    ended = time.perf_counter()
    if first is None or tokens == 0:
        raise RuntimeError(f"{url}: a stream without content or without its usage chunk")
    return Sample(first - started, ended - started, tokens)


def _body(model: str, prompt: str, max_tokens: int) -> bytes:
    return orjson.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )


async def run_phase(
    base_url: str, key: str | None, model: str, concurrency: int, requests: int, max_tokens: int
) -> Phase:
    """`requests` requests over `concurrency` closed-loop clients; prompts taken in turn."""
    url = base_url.rstrip("/") + "/v1/chat/completions"
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    queue = [PROMPTS[index % len(PROMPTS)] for index in range(requests)]
    samples: list[Sample] = []
    timeout = aiohttp.ClientTimeout(total=600)

    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def client() -> None:
            while queue:
                prompt = queue.pop(0)
                samples.append(await _one(session, url, headers, _body(model, prompt, max_tokens)))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return Phase(concurrency, wall, tuple(samples))
