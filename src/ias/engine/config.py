"""What a built-in engine serves and how it behaves: models, timing, capacity, failures.

One frozen value per engine, so several engines with different behaviour can run side by side
in one process (a test, a benchmark, `ias up`). Per-request overrides of the timing and failure
fields travel in the request body's `mock` object (see `behaviour.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ModelKind = Literal["chat", "completion", "embedding"]

_KINDS: frozenset[str] = frozenset({"chat", "completion", "embedding"})


@dataclass(frozen=True, slots=True)
class EngineModel:
    """A served model: a `chat` model answers chat and legacy completions, a `completion`
    model only legacy completions, an `embedding` model only embeddings."""

    name: str
    kind: ModelKind = "chat"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a model needs a name")
        if self.kind not in _KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; use one of {sorted(_KINDS)}")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How one engine behaves.

    Timing: `prompt_seconds_per_token` x prompt tokens pass before the first token, then
    `seconds_per_token` between tokens; 0 means no sleep at all (the benchmark mode).
    Capacity: at most `max_concurrency` requests generate at once, the rest wait in FIFO order.
    Failures, applied to every generation request unless the request's `mock` overrides them:
    `fail_status` answers with that HTTP status before any output; `die_after_chunks` sends that
    many token chunks then drops the connection; `hang_after_chunks` sends that many then stalls
    until the client goes away.
    """

    models: tuple[EngineModel, ...]
    prompt_seconds_per_token: float = 0.0
    seconds_per_token: float = 0.0
    max_concurrency: int = 64
    max_model_len: int = 4096
    embedding_dim: int = 32
    seed: int = 0
    fail_status: int | None = None
    die_after_chunks: int | None = None
    hang_after_chunks: int | None = None
    # The token log keeps this many most recent requests, so a long benchmark stays bounded.
    token_log_size: int = 100_000
    owned_by: str = "ias"

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("an engine needs at least one model")
        names = [model.name for model in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        if self.prompt_seconds_per_token < 0 or self.seconds_per_token < 0:
            raise ValueError("delays cannot be negative")
        if self.max_concurrency < 1 or self.max_model_len < 2 or self.embedding_dim < 1:
            raise ValueError("max_concurrency, max_model_len and embedding_dim must be positive")
        if self.fail_status is not None and not 400 <= self.fail_status <= 599:
            raise ValueError("fail_status must be an HTTP error status (400-599)")
        for name in ("die_after_chunks", "hang_after_chunks"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.token_log_size < 1:
            raise ValueError("token_log_size must be positive")


DEMO_CHAT_MODEL = "demo-chat"
DEMO_EMBEDDING_MODEL = "demo-embed"


def demo_config() -> EngineConfig:
    """The built-in demo models of `ias up`: one chat model and one embedding model."""
    return EngineConfig(
        models=(
            EngineModel(DEMO_CHAT_MODEL, "chat"),
            EngineModel(DEMO_EMBEDDING_MODEL, "embedding"),
        )
    )
