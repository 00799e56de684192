"""Plausible, deterministic log probabilities in OpenAI's two shapes.

The sampled token is always the most likely one (as greedy decoding would have it), with a log
probability in [-2, 0]; alternatives are other vocabulary words, each less likely than the last.
Chat (`logprobs: true, top_logprobs: k`) lists k entries per token; legacy completions
(`logprobs: k`) map up to max(k, 1) tokens to their log probabilities, as OpenAI allows.
"""

from __future__ import annotations

from typing import Any

from ias.engine.generation import VOCABULARY, GeneratedChoice

_MIX = 0x9E3779B97F4A7C15
_MASK_64 = (1 << 64) - 1
_WORD_MASK = len(VOCABULARY) - 1
_SPACED = tuple(" " + word for word in VOCABULARY)
# An odd stride visits every word before repeating, so alternatives never repeat.
_STRIDE = 5


def _position_hash(state: int, position: int) -> int:
    return ((state ^ (position * _MIX)) * _MIX) & _MASK_64


def _sampled_logprob(mixed: int) -> float:
    return -round((mixed & 0xFFFF) / 0xFFFF * 2.0, 6)


def top_candidates(state: int, position: int, token: str, count: int) -> list[tuple[str, float]]:
    """`count` (token, logprob) pairs, most likely first; the sampled `token` leads."""
    if count <= 0:
        return []
    mixed = _position_hash(state, position)
    best = _sampled_logprob(mixed)
    first_word = (mixed >> 16) & _WORD_MASK
    candidates = [(token, best)]
    step = 1
    while len(candidates) < count:
        word = _SPACED[(first_word + step * _STRIDE) & _WORD_MASK]
        step += 1
        if word != token:
            candidates.append((word, round(best - 0.75 * len(candidates) - 0.125, 6)))
    return candidates


def _chat_entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


def chat_token_logprobs(choice: GeneratedChoice, position: int, top: int) -> dict[str, Any]:
    """One `ChatCompletionTokenLogprob`: the token, its logprob, bytes and `top` alternatives."""
    token = choice.tokens[position]
    candidates = top_candidates(choice.state, position, token, max(top, 1))
    entry = _chat_entry(token, candidates[0][1])
    entry["top_logprobs"] = [_chat_entry(text, value) for text, value in candidates[:top]]
    return entry


def chat_logprobs(
    choice: GeneratedChoice, top: int, start: int = 0, stop: int | None = None
) -> Any:
    """The `logprobs` object of a chat choice (or of one streamed chunk, with a range)."""
    end = len(choice.tokens) if stop is None else stop
    content = [chat_token_logprobs(choice, position, top) for position in range(start, end)]
    return {"content": content, "refusal": None}


def completion_logprobs(
    choice: GeneratedChoice, top: int, start: int = 0, stop: int | None = None, offset: int = 0
) -> dict[str, Any]:
    """The legacy completions `logprobs` object; `offset` is where `start`'s text begins."""
    end = len(choice.tokens) if stop is None else stop
    tokens: list[str] = []
    values: list[float] = []
    tops: list[dict[str, float]] = []
    offsets: list[int] = []
    for position in range(start, end):
        token = choice.tokens[position]
        candidates = top_candidates(choice.state, position, token, max(top, 1))
        tokens.append(token)
        values.append(candidates[0][1])
        tops.append(dict(candidates))
        offsets.append(offset)
        offset += len(choice.deltas[position])
    return {
        "tokens": tokens,
        "token_logprobs": values,
        "top_logprobs": tops,
        "text_offset": offsets,
    }
