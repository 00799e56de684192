"""The engine's Prometheus metrics, named and labelled as vLLM names them.

Each engine owns its registry, so several engines in one process (tests, `ias up`) never
collide and `/metrics` shows only its own series. Tokens count as vLLM counts them: prompt
tokens when a request starts running, generation tokens as they reach the client.

`process_start_time_seconds` (the name of the Prometheus client's process collector, which
vLLM exposes) tells a reader since when the counters have been counting, so usage
reconciliation can line the ledger up with them. Here it is the moment the engine was built,
not the start of the Python process: the counters begin at zero then, and an engine may be
built long after its process started.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST.encode()


@dataclass(frozen=True, slots=True)
class ModelMetrics:
    """The series of one model, bound once so the hot path skips label lookups."""

    prompt_tokens: Counter
    generation_tokens: Counter
    running: Gauge
    waiting: Gauge


class EngineMetrics:
    def __init__(self, model_names: list[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["model_name"]
        prompt = Counter(
            "vllm:prompt_tokens",
            "Number of prefill tokens processed.",
            labels,
            registry=self.registry,
        )
        generation = Counter(
            "vllm:generation_tokens",
            "Number of generation tokens processed.",
            labels,
            registry=self.registry,
        )
        running = Gauge(
            "vllm:num_requests_running",
            "Number of requests in model execution batches.",
            labels,
            registry=self.registry,
        )
        waiting = Gauge(
            "vllm:num_requests_waiting",
            "Number of requests waiting to be processed.",
            labels,
            registry=self.registry,
        )
        started = Gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            registry=self.registry,
        )
        started.set(time.time())
        self._models = {
            name: ModelMetrics(
                prompt.labels(name),
                generation.labels(name),
                running.labels(name),
                waiting.labels(name),
            )
            for name in model_names
        }

    def model(self, name: str) -> ModelMetrics:
        return self._models[name]

    def render(self) -> bytes:
        return generate_latest(self.registry)
