"""Tokenizer, generated text and logprobs: deterministic, counted the same way everywhere."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ias.engine.generation import (
    MAX_NATURAL_TOKENS,
    MIN_NATURAL_TOKENS,
    GeneratedChoice,
    OutputShape,
    generate_choice,
)
from ias.engine.logprobs import chat_token_logprobs, completion_logprobs, top_candidates
from ias.engine.tokenizer import count_tokens, message_tokens, tokenize


def _choice(prompt: str = "hello", **fields: Any) -> GeneratedChoice:
    base: dict[str, Any] = {"model": "m", "prompt_key": prompt, "seed": "0/None", "index": 0}
    return generate_choice(**{**base, "limit": 1000, **fields})


def test_tokens_carry_their_leading_whitespace() -> None:
    assert tokenize("Hello, big world!") == ["Hello", ",", " big", " world", "!"]
    assert tokenize("a  b \n") == ["a", "  b", " \n"]
    assert count_tokens("") == 0


def test_long_words_split_every_twelve_characters() -> None:
    assert tokenize("abcdefghijklmnopqrstuvwxyz") == ["abcdefghijkl", "mnopqrstuvwx", "yz"]


def test_a_message_costs_its_framing_role_and_content() -> None:
    assert message_tokens("user", ["Hello there"], 0) == 4 + 1 + 2
    assert message_tokens("user", [], 2) == 4 + 1 + 2 * 16


@pytest.mark.parametrize("prompt", [f"prompt {number}" for number in range(40)])
def test_natural_output_is_prose_whose_tokens_count_back(prompt: str) -> None:
    choice = _choice(prompt)
    assert MIN_NATURAL_TOKENS <= len(choice.tokens) <= MAX_NATURAL_TOKENS
    assert choice.finish_reason == "stop"
    assert choice.text[0].isupper()
    assert choice.text.endswith(".")
    assert count_tokens(choice.text) == len(choice.tokens)
    assert ",." not in choice.text
    assert ",," not in choice.text


def test_output_depends_on_model_prompt_seed_and_index_only() -> None:
    same = [_choice().text for _ in range(3)]
    assert same[0] == same[1] == same[2]
    assert _choice("other").text != same[0]
    assert _choice(seed="0/7").text != same[0]
    assert _choice(index=1).text != same[0]
    assert _choice(model="m2").text != same[0]


def test_limit_cuts_with_finish_reason_length() -> None:
    full = _choice()
    cut = _choice(limit=3)
    assert cut.tokens == full.tokens[:3]
    assert cut.finish_reason == "length"
    exact = _choice(limit=len(full.tokens))
    assert exact.finish_reason == "stop"


def test_stop_string_ends_output_before_it_and_counts_the_completing_token() -> None:
    full = _choice()
    stop = full.text[10:14]
    choice = _choice(stops=(stop,))
    assert choice.finish_reason == "stop"
    assert choice.text == full.text[: full.text.index(stop)]
    covered = len("".join(choice.tokens))
    assert covered >= full.text.index(stop) + len(stop)
    assert covered - len(choice.tokens[-1]) < full.text.index(stop) + len(stop)
    assert len(choice.deltas) == len(choice.tokens)


def test_the_earliest_completed_stop_string_wins() -> None:
    text = _choice().text
    late, early = text[20:24], text[5:7]
    assert _choice(stops=(late, early)).text == text[: text.index(early)]


def test_json_shape_is_a_json_object() -> None:
    choice = _choice(shape=OutputShape("json"))
    assert isinstance(orjson.loads(choice.text)["answer"], str)
    assert count_tokens(choice.text) == len(choice.tokens)


def test_tool_shape_names_the_tool_then_its_arguments() -> None:
    choice = _choice(shape=OutputShape("tool", "get_weather", "tool_calls"))
    assert choice.tokens == ["get_weather", "{", "}"]
    assert choice.tool_name == "get_weather"
    assert choice.finish_reason == "tool_calls"


def test_logprobs_put_the_sampled_token_first_and_decrease() -> None:
    candidates = top_candidates(123, 4, " river", 20)
    assert candidates[0][0] == " river"
    assert len({token for token, _ in candidates}) == 20
    values = [value for _, value in candidates]
    assert values == sorted(values, reverse=True)
    assert -2.0 <= values[0] <= 0.0


def test_chat_and_completion_logprobs_describe_each_token() -> None:
    choice = _choice()
    entry = chat_token_logprobs(choice, 0, 3)
    assert entry["token"] == choice.tokens[0]
    assert bytes(entry["bytes"]).decode() == choice.tokens[0]
    assert len(entry["top_logprobs"]) == 3
    legacy = completion_logprobs(choice, 2)
    assert legacy["tokens"] == choice.tokens
    assert legacy["text_offset"][1] == len(choice.tokens[0])
    assert all(len(top) == 2 for top in legacy["top_logprobs"])
