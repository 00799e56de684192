"""`/v1/embeddings`: deterministic unit vectors, as floats or base64 like OpenAI's.

Each input's vector is seeded by a hash of (model, engine seed, input), so equal inputs embed
equally. `dimensions` keeps the first d components and renormalises (as Matryoshka models do);
asking for more than the engine's `embedding_dim` is a 400. Base64 is little-endian float32.
"""

from __future__ import annotations

import base64
import math
import struct
import time
from collections.abc import Sequence
from hashlib import shake_128
from typing import Any

import orjson

from ias.engine.behaviour import behaviour_for, parse_mock
from ias.engine.catalog import EMBEDDINGS, Catalog
from ias.engine.completions import read_prompts
from ias.engine.config import EngineConfig
from ias.engine.errors import EngineError, bad_request
from ias.engine.fields import Json, optional_int
from ias.engine.job import Job


def _unit(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [value / norm for value in values]


def embedding_vector(model: str, seed: int, key: str, dimensions: int) -> list[float]:
    """A unit vector of `dimensions` floats, fixed by (model, seed, key)."""
    raw = shake_128(f"{model}\x1f{seed}\x1f{key}".encode()).digest(2 * dimensions)
    return _unit(struct.unpack(f"<{dimensions}h", raw))


def _encode(vector: list[float], encoding: str) -> Any:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def _read_format(body: Json, config: EngineConfig) -> tuple[str, int]:
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise bad_request("`encoding_format` must be 'float' or 'base64'.", "encoding_format")
    dimensions = optional_int(body, "dimensions", minimum=1)
    if dimensions is not None and dimensions > config.embedding_dim:
        raise bad_request(
            f"`dimensions` must be at most {config.embedding_dim} for this model.", "dimensions"
        )
    return encoding, dimensions or config.embedding_dim


def _check_length(tokens: int, max_model_len: int) -> None:
    if tokens > max_model_len:
        raise EngineError(
            400,
            f"This model's maximum context length is {max_model_len} tokens. However, you "
            f"requested {tokens} tokens in the input for embedding generation. Please reduce "
            "the length of the input.",
            param="input_tokens",
        )


def render_embeddings(
    response_id: str, model: str, vectors: list[Any], prompt_tokens: int
) -> bytes:
    return orjson.dumps(
        {
            "id": response_id,
            "object": "list",
            "created": int(time.time()),
            "model": model,
            "data": [
                {"index": index, "object": "embedding", "embedding": vector}
                for index, vector in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
    )


def build_embedding_job(body: Json, request_id: str, config: EngineConfig, catalog: Catalog) -> Job:
    model = catalog.resolve(body.get("model"), EMBEDDINGS)
    inputs = read_prompts(body.get("input"), "input")
    encoding, dimensions = _read_format(body, config)
    mock = parse_mock(body)
    for _, tokens in inputs:
        _check_length(tokens, config.max_model_len)
    prompt_tokens = sum(tokens for _, tokens in inputs)

    def render() -> bytes:
        full = config.embedding_dim
        vectors = [embedding_vector(model, config.seed, key, full) for key, _ in inputs]
        if dimensions < full:
            vectors = [_unit(vector[:dimensions]) for vector in vectors]
        encoded = [_encode(vector, encoding) for vector in vectors]
        return render_embeddings(f"embd-{request_id}", model, encoded, prompt_tokens)

    return Job(
        endpoint=EMBEDDINGS,
        model=model,
        prompt_tokens=prompt_tokens,
        choices=[],
        behaviour=behaviour_for(config, mock, prompt_tokens),
        render=render,
    )
