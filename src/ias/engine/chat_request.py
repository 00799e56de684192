"""Reading a chat request: messages into prompt tokens, tools and formats into an output shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ias.engine.errors import bad_request
from ias.engine.fields import Json, optional_bool, optional_int
from ias.engine.generation import PROSE, OutputShape
from ias.engine.tokenizer import GENERATION_PROMPT_TOKENS, count_tokens, message_tokens

MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    tokens: int
    key: str  # the rendered conversation, which seeds the generated text


def _content_texts(content: Any, param: str) -> tuple[list[str], int]:
    """The text parts of a message's content and how many parts are not text."""
    if content is None:
        return [], 0
    if isinstance(content, str):
        return [content], 0
    if not isinstance(content, list):
        raise bad_request(f"`{param}` must be a string, a list of parts or null.", param)
    texts: list[str] = []
    others = 0
    for part in content:
        if not isinstance(part, dict):
            raise bad_request(f"Every part of `{param}` must be an object.", param)
        text = part.get("text")
        if part.get("type") == "text" and isinstance(text, str):
            texts.append(text)
        else:
            others += 1
    return texts, others


def _tool_call_texts(message: Json) -> list[str]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return []
    texts: list[str] = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            texts += [str(function.get("name", "")), str(function.get("arguments", ""))]
    return texts


def read_messages(body: Json) -> ChatPrompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("`messages` must be a non-empty list of messages.", "messages")
    total = GENERATION_PROMPT_TOKENS
    rendered: list[str] = []
    for position, message in enumerate(messages):
        param = f"messages[{position}]"
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise bad_request(f"`{param}` must be an object with a string `role`.", param)
        role: str = message["role"]
        texts, others = _content_texts(message.get("content"), f"{param}.content")
        name = message.get("name")
        texts += ([name] if isinstance(name, str) else []) + _tool_call_texts(message)
        total += message_tokens(role, texts, others)
        rendered.append(f"{role}: {' '.join(texts)}")
    return ChatPrompt(total, "\n".join(rendered))


def _tool_names(tools: Any) -> list[str]:
    if not isinstance(tools, list) or not tools:
        raise bad_request(
            "`tools` must not be an empty array. Either provide at least one tool or omit the "
            "field entirely.",
            "tools",
        )
    names: list[str] = []
    for position, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            param = f"tools[{position}].function.name"
            raise bad_request(f"`{param}` must be a non-empty string.", param)
        names.append(name)
    return names


def _named_tool(choice: Json, names: list[str]) -> str:
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or not name:
        raise bad_request(
            'Expected `tool_choice` like {"type": "function", "function": {"name": "f"}}.',
            "tool_choice.function.name",
        )
    if name not in names:
        raise bad_request(
            "The tool specified in `tool_choice` does not match any of the specified `tools`",
            "tool_choice",
        )
    return name


def read_tools(body: Json) -> tuple[OutputShape | None, int]:
    """The tool call to make (None: answer in text) and the prompt tokens the tools add."""
    tools, choice = body.get("tools"), body.get("tool_choice")
    if tools is None:
        if choice not in (None, "none"):
            raise bad_request("When using `tool_choice`, `tools` must be set.", "tool_choice")
        return None, 0
    names = _tool_names(tools)
    prompt_tokens = count_tokens(orjson.dumps(tools).decode())
    if choice is None or choice in ("auto", "required"):
        return OutputShape("tool", names[0], "tool_calls"), prompt_tokens
    if choice == "none":
        return None, prompt_tokens
    if isinstance(choice, dict):
        return OutputShape("tool", _named_tool(choice, names), "stop"), prompt_tokens
    raise bad_request(
        f'Invalid value for `tool_choice`: {choice!r}. Only named tools, "none", "auto" or '
        '"required" are supported.',
        "tool_choice",
    )


def read_response_format(body: Json) -> OutputShape:
    raw = body.get("response_format")
    if raw is None:
        return PROSE
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return PROSE
    if kind in ("json_object", "json_schema"):
        return OutputShape("json")
    raise bad_request(
        "`response_format.type` must be one of 'text', 'json_object' or 'json_schema'.",
        "response_format",
    )


def read_top_logprobs(body: Json) -> int | None:
    """How many alternatives to list per token, or None when logprobs were not asked for."""
    wanted = optional_bool(body, "logprobs")
    top = optional_int(body, "top_logprobs", minimum=0, maximum=MAX_TOP_LOGPROBS)
    if top and not wanted:
        raise bad_request(
            "when using `top_logprobs`, `logprobs` must be set to true.", "top_logprobs"
        )
    return (top or 0) if wanted else None
