"""A deterministic, offline stand-in for a model tokenizer and chat template.

Token rule: a token is a run of up to 12 word characters, or one other visible character,
together with the whitespace in front of it; whitespace at the very end of a text is a token of
its own. So ``"Hello, big world!"`` is ``["Hello", ",", " big", " world", "!"]`` (5 tokens). The
engine's generated text is built from such tokens, so re-tokenizing a completion that no stop
string cut gives back exactly `completion_tokens`.

Chat template rule: like a real template, each message costs framing tokens on top of its text:
``prompt_tokens = 2 + sum(4 + tokens(role) + tokens(content) + tokens(name))`` over the
messages, where 2 is the generation prompt that opens the model's reply. A content part that
is not text (an image, audio) counts as `NON_TEXT_PART_TOKENS`. Tools offered in the request are
rendered into the prompt too: they add the tokens of their JSON.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:\w{1,12}|[^\w\s])|\s+")

MESSAGE_FRAMING_TOKENS = 4
GENERATION_PROMPT_TOKENS = 2
NON_TEXT_PART_TOKENS = 16


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text)) if text else 0


def message_tokens(role: str, texts: list[str], non_text_parts: int) -> int:
    """Tokens one chat message adds to the rendered prompt."""
    total = MESSAGE_FRAMING_TOKENS + count_tokens(role) + non_text_parts * NON_TEXT_PART_TOKENS
    for text in texts:
        total += count_tokens(text)
    return total
