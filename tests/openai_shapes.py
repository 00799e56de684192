"""The part of OpenAI's published schemas the engine answers with, and a checker for them.

Transcribed by hand from OpenAI's OpenAPI document (CreateChatCompletionResponse,
CreateChatCompletionStreamResponse, CreateCompletionResponse, CreateEmbeddingResponse,
CompletionUsage, ChatCompletionTokenLogprob, ListModelsResponse, Model), keeping the required
fields, types, enums and nullability; the checker understands just the keywords used here.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _type_ok(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def problems(value: Any, schema: Schema, where: str = "$") -> list[str]:
    """Every way `value` breaks `schema`; empty when it conforms."""
    if "anyOf" in schema:
        options = [problems(value, option, where) for option in schema["anyOf"]]
        return [] if any(not found for found in options) else [f"{where}: matches no option"]
    if value is None and schema.get("nullable"):
        return []
    found: list[str] = []
    kind = schema.get("type")
    if kind is not None and not _type_ok(value, kind):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        found += [
            f"{where}: missing {key}" for key in schema.get("required", ()) if key not in value
        ]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(value[key], sub, f"{where}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                found += problems(item, extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{index}]")
    return found


def assert_conforms(value: Any, schema: Schema) -> None:
    found = problems(value, schema)
    assert not found, "\n".join(found)


INTEGER: Schema = {"type": "integer"}
STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"anyOf": [STRING, {"type": "null"}]}

USAGE: Schema = {
    "type": "object",
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "properties": {"prompt_tokens": INTEGER, "completion_tokens": INTEGER, "total_tokens": INTEGER},
}

_TOP_LOGPROB: Schema = {
    "type": "object",
    "required": ["token", "logprob", "bytes"],
    "properties": {
        "token": STRING,
        "logprob": {"type": "number"},
        "bytes": {"anyOf": [{"type": "array", "items": INTEGER}, {"type": "null"}]},
    },
}
TOKEN_LOGPROB: Schema = {
    **_TOP_LOGPROB,
    "required": ["token", "logprob", "bytes", "top_logprobs"],
    "properties": {
        **_TOP_LOGPROB["properties"],
        "top_logprobs": {"type": "array", "items": _TOP_LOGPROB},
    },
}
_CHAT_LOGPROBS: Schema = {
    "anyOf": [
        {
            "type": "object",
            "required": ["content", "refusal"],
            "properties": {
                "content": {"anyOf": [{"type": "array", "items": TOKEN_LOGPROB}, {"type": "null"}]},
                "refusal": {"anyOf": [{"type": "array", "items": TOKEN_LOGPROB}, {"type": "null"}]},
            },
        },
        {"type": "null"},
    ]
}
_FINISH = ["stop", "length", "tool_calls", "content_filter", "function_call"]
_TOOL_CALL: Schema = {
    "type": "object",
    "required": ["id", "type", "function"],
    "properties": {
        "id": STRING,
        "type": {"type": "string", "enum": ["function"]},
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "properties": {"name": STRING, "arguments": STRING},
        },
    },
}

CHAT_COMPLETION: Schema = {
    "type": "object",
    "required": ["choices", "created", "id", "model", "object"],
    "properties": {
        "id": STRING,
        "created": INTEGER,
        "model": STRING,
        "object": {"type": "string", "enum": ["chat.completion"]},
        "usage": USAGE,
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["finish_reason", "index", "message", "logprobs"],
                "properties": {
                    "finish_reason": {"type": "string", "enum": _FINISH},
                    "index": INTEGER,
                    "logprobs": _CHAT_LOGPROBS,
                    "message": {
                        "type": "object",
                        "required": ["role", "content", "refusal"],
                        "properties": {
                            "role": {"type": "string", "enum": ["assistant"]},
                            "content": NULLABLE_STRING,
                            "refusal": NULLABLE_STRING,
                            "tool_calls": {"type": "array", "items": _TOOL_CALL},
                        },
                    },
                },
            },
        },
    },
}

_TOOL_CALL_CHUNK: Schema = {
    "type": "object",
    "required": ["index"],
    "properties": {
        "index": INTEGER,
        "id": STRING,
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "properties": {"name": STRING, "arguments": STRING}},
    },
}
CHAT_CHUNK: Schema = {
    "type": "object",
    "required": ["choices", "created", "id", "model", "object"],
    "properties": {
        "id": STRING,
        "created": INTEGER,
        "model": STRING,
        "object": {"type": "string", "enum": ["chat.completion.chunk"]},
        "usage": {**USAGE, "nullable": True},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["delta", "finish_reason", "index"],
                "properties": {
                    "index": INTEGER,
                    "finish_reason": {"type": "string", "enum": _FINISH, "nullable": True},
                    "logprobs": {**_CHAT_LOGPROBS["anyOf"][0], "nullable": True},
                    "delta": {
                        "type": "object",
                        "properties": {
                            "content": NULLABLE_STRING,
                            "role": {
                                "type": "string",
                                "enum": ["developer", "system", "user", "assistant", "tool"],
                            },
                            "tool_calls": {"type": "array", "items": _TOOL_CALL_CHUNK},
                        },
                    },
                },
            },
        },
    },
}

_COMPLETION_LOGPROBS: Schema = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "text_offset": {"type": "array", "items": INTEGER},
                "token_logprobs": {"type": "array", "items": {"type": "number"}},
                "tokens": {"type": "array", "items": STRING},
                "top_logprobs": {
                    "type": "array",
                    "items": {"type": "object", "additionalProperties": {"type": "number"}},
                },
            },
        },
        {"type": "null"},
    ]
}
COMPLETION: Schema = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": STRING,
        "created": INTEGER,
        "model": STRING,
        "object": {"type": "string", "enum": ["text_completion"]},
        "usage": USAGE,
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["finish_reason", "index", "logprobs", "text"],
                "properties": {
                    "finish_reason": {
                        "type": "string",
                        "enum": ["stop", "length", "content_filter"],
                    },
                    "index": INTEGER,
                    "logprobs": _COMPLETION_LOGPROBS,
                    "text": STRING,
                },
            },
        },
    },
}


def _completion_chunk() -> Schema:
    """A streamed legacy completion: the same shape, but `finish_reason` stays null until a
    choice ends, and `usage` is null until the last chunk (when usage was asked for)."""
    choice = COMPLETION["properties"]["choices"]["items"]
    finish = {**choice["properties"]["finish_reason"], "nullable": True}
    chunk_choice = {**choice, "properties": {**choice["properties"], "finish_reason": finish}}
    properties = {
        **COMPLETION["properties"],
        "choices": {"type": "array", "items": chunk_choice},
        "usage": {**USAGE, "nullable": True},
    }
    return {**COMPLETION, "properties": properties}


COMPLETION_CHUNK = _completion_chunk()

EMBEDDINGS: Schema = {
    "type": "object",
    "required": ["object", "model", "data", "usage"],
    "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "model": STRING,
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "object", "embedding"],
                "properties": {
                    "index": INTEGER,
                    "object": {"type": "string", "enum": ["embedding"]},
                    "embedding": {
                        "anyOf": [{"type": "array", "items": {"type": "number"}}, STRING]
                    },
                },
            },
        },
        "usage": {
            "type": "object",
            "required": ["prompt_tokens", "total_tokens"],
            "properties": {"prompt_tokens": INTEGER, "total_tokens": INTEGER},
        },
    },
}

MODEL: Schema = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": STRING,
        "object": {"type": "string", "enum": ["model"]},
        "created": INTEGER,
        "owned_by": STRING,
    },
}
MODEL_LIST: Schema = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"type": "string", "enum": ["list"]},
        "data": {"type": "array", "items": MODEL},
    },
}

# vLLM's error body: OpenAI's envelope with an exception name as `type` and the status as `code`.
ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": STRING,
                "type": STRING,
                "param": NULLABLE_STRING,
                "code": INTEGER,
            },
        }
    },
}


# OpenAI's own error envelope: `code` is a string or null (vLLM's `ERROR` above uses an integer).
OPENAI_ERROR: Schema = {
    **ERROR,
    "properties": {
        "error": {
            **ERROR["properties"]["error"],
            "properties": {
                **ERROR["properties"]["error"]["properties"],
                "code": NULLABLE_STRING,
            },
        }
    },
}
