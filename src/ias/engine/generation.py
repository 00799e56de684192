"""Deterministic output: the same model, prompt, seed and choice index give the same tokens.

A 64-bit hash of (model, seeds, choice index, prompt) picks a natural length between
`MIN_NATURAL_TOKENS` and `MAX_NATURAL_TOKENS` and seeds a small linear congruential generator
that walks a fixed vocabulary. Prose starts with a capitalised word, sprinkles commas and ends
with a full stop; every piece is one token under `tokenizer.py`'s rule.

Limits, in the order a real engine applies them:
1. `limit` (max_tokens, or what the context window leaves) cuts the output: `finish_reason`
   becomes "length". Reaching the natural end exactly is a natural stop.
2. A stop string ends the output at the token that completes it. That token still counts, as in
   vLLM, but the visible text ends just before the stop string; so a streamed chunk may carry an
   empty or shortened delta.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b
from typing import Literal

from ias.engine.tokenizer import tokenize

MIN_NATURAL_TOKENS = 8
MAX_NATURAL_TOKENS = 64

VOCABULARY = (
    "the", "model", "answer", "is", "of", "and", "to", "in",
    "that", "it", "for", "on", "with", "as", "this", "by",
    "from", "at", "token", "stream", "request", "value", "data", "system",
    "simple", "fast", "small", "large", "first", "next", "last", "good",
    "new", "old", "time", "way", "part", "word", "line", "point",
    "case", "set", "place", "number", "result", "state", "order", "level",
    "kind", "form", "end", "test", "engine", "output", "input", "reply",
    "text", "story", "idea", "plan", "river", "light", "stone", "garden",
)  # fmt: skip
_CAPITALISED = tuple(word.capitalize() for word in VOCABULARY)
_SPACED = tuple(" " + word for word in VOCABULARY)
_WORD_MASK = len(VOCABULARY) - 1  # the vocabulary size is a power of two

_LCG_MULTIPLIER = 6364136223846793005
_LCG_INCREMENT = 1442695040888963407
_MASK_64 = (1 << 64) - 1

# A JSON-mode answer is `{"answer": "<prose>"}`: 6 tokens before the prose, 2 after.
_JSON_HEAD = ("{", '"', "answer", '"', ":", ' "')
_JSON_TAIL = ('"', "}")
TOOL_ARGUMENTS = "{}"

OutputKind = Literal["text", "json", "tool"]


@dataclass(frozen=True, slots=True)
class OutputShape:
    """What a choice looks like: prose, a JSON object, or a call of `tool_name`."""

    kind: OutputKind = "text"
    tool_name: str = ""
    # OpenAI ends an automatic or required tool call with "tool_calls", a named one with "stop".
    natural_finish: str = "stop"


PROSE = OutputShape()


@dataclass(slots=True)
class GeneratedChoice:
    index: int
    tokens: list[str]  # one entry per generated token: what `completion_tokens` counts
    deltas: list[str]  # the visible text each token adds; a stop string shortens the last ones
    finish_reason: str
    state: int  # seeds this choice's logprobs
    tool_name: str | None = None
    tool_call_id: str = ""

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def choice_state(model: str, prompt_key: str, seed: str, index: int) -> int:
    key = f"{model}\x1f{seed}\x1f{index}\x1f{prompt_key}".encode()
    return int.from_bytes(blake2b(key, digest_size=8).digest(), "little")


def natural_length(state: int) -> int:
    span = MAX_NATURAL_TOKENS - MIN_NATURAL_TOKENS + 1
    return MIN_NATURAL_TOKENS + state % span


def prose(state: int, count: int) -> list[str]:
    """`count` tokens of prose: a capitalised first word, commas here and there, a full stop."""
    tokens: list[str] = []
    value = state
    after_word = False
    last = count - 1
    for position in range(count):
        value = (value * _LCG_MULTIPLIER + _LCG_INCREMENT) & _MASK_64
        pick = value >> 40
        if position == last and position:
            tokens.append(".")
        elif after_word and pick % 7 == 0 and position < last - 1:
            tokens.append(",")
            after_word = False
        else:
            tokens.append(
                _SPACED[pick & _WORD_MASK] if position else _CAPITALISED[pick & _WORD_MASK]
            )
            after_word = True
    return tokens


def _full_output(shape: OutputShape, state: int) -> list[str]:
    if shape.kind == "tool":
        return [shape.tool_name, *tokenize(TOOL_ARGUMENTS)]
    natural = natural_length(state)
    if shape.kind == "json":
        inner = natural - len(_JSON_HEAD) - len(_JSON_TAIL)
        return [*_JSON_HEAD, *prose(state, inner), *_JSON_TAIL]
    return prose(state, natural)


def _cut_at_stop(tokens: list[str], stops: tuple[str, ...]) -> tuple[list[str], list[str]] | None:
    """Tokens up to the one completing the first stop string, and their visible deltas."""
    text = "".join(tokens)
    found: tuple[int, int] | None = None  # (end, start) of the earliest completed stop string
    for stop in stops:
        start = text.find(stop)
        if start >= 0 and (found is None or (start + len(stop), start) < found):
            found = (start + len(stop), start)
    if found is None:
        return None
    end, visible_end = found
    kept: list[str] = []
    deltas: list[str] = []
    offset = 0
    for token in tokens:
        token_start, offset = offset, offset + len(token)
        kept.append(token)
        deltas.append(text[token_start : min(offset, visible_end)])
        if offset >= end:
            break
    return kept, deltas


def generate_choice(
    *,
    model: str,
    prompt_key: str,
    seed: str,
    index: int,
    limit: int,
    stops: tuple[str, ...] = (),
    shape: OutputShape = PROSE,
) -> GeneratedChoice:
    state = choice_state(model, prompt_key, seed, index)
    tokens = _full_output(shape, state)
    finish_reason = shape.natural_finish
    if limit < len(tokens):
        tokens, finish_reason = tokens[:limit], "length"
    deltas = tokens
    if stops and shape.kind != "tool":
        cut = _cut_at_stop(tokens, stops)
        if cut is not None:
            (tokens, deltas), finish_reason = cut, "stop"
    tool_name = shape.tool_name if shape.kind == "tool" else None
    return GeneratedChoice(index, tokens, deltas, finish_reason, state, tool_name)
