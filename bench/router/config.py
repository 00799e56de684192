"""What one benchmark run does: its knobs, and the exact requests every arm receives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

MODEL = "bench-chat"
PROMPT = "Say hello to the benchmark in a few words."
MAX_TOKENS = 16

# The arms. Both router arms are the same router process, told apart by the API key they send.
DIRECT = "direct"
ROUTER = "router"  # a key whose key and org rows carry no limit: no Redis call per request
LIMITED = "router+limits"  # a key whose key, org and per-model org rows carry every limit


@dataclass(frozen=True, slots=True)
class GenerousLimits:
    """Every limit the router enforces, set far above what one run can use.

    Each one is checked (and counted on Redis) on every request of the limits arm, and none
    ever refuses: a run sends well under a million requests and a few million tokens.
    """

    rpm: int = 10**7
    tpm: int = 10**9
    concurrency: int = 10**4
    monthly_tokens: int = 10**9
    monthly_budget_micros: int = 10**12  # USD 1,000,000

    def describe(self) -> str:
        return (
            f"key rpm {self.rpm:,}, tpm {self.tpm:,}, concurrency {self.concurrency:,}; "
            f"org rpm {self.rpm:,}, tpm {self.tpm:,}, concurrency {self.concurrency:,}, "
            f"monthly token quota {self.monthly_tokens:,}, monthly budget "
            f"USD {self.monthly_budget_micros // 10**6:,}; per-model (org_model_limits) `{MODEL}` "
            f"rpm {self.rpm:,}, tpm {self.tpm:,}"
        )


LIMITS = GenerousLimits()


@dataclass(frozen=True, slots=True)
class BenchConfig:
    rounds: int = 3
    connections: int = 64
    throughput_seconds: float = 10.0
    rates: tuple[int, ...] = (50, 200, 1000)
    rate_seconds: float = 5.0
    streams: int = 50
    stream_chunks: int = 20
    token_delay_seconds: float = 0.005
    idle_requests: int = 200  # sent one at a time: the latency an idle arm adds
    open_streams: int = 1000  # held open at once: memory per 1,000 open streams
    # The held streams' first token comes at once, the next one this much later: every stream
    # must still be open when the last one starts. It must stay under the router's 60 s limit
    # between chunks, and it bounds how long a proxy that does not cancel its upstream stream
    # when its client leaves (LiteLLM) keeps the engine busy after the phase.
    hold_token_delay_seconds: float = 40.0
    warmup_seconds: float = 2.0
    litellm_bin: Path | None = None
    force_python_loadgen: bool = False
    results_dir: Path = Path("bench/results")
    results_md: Path | None = None  # also write this run's summary there (bench/RESULTS.md)


@dataclass(frozen=True, slots=True)
class Target:
    """One arm as a load generator sees it: where to send, with which headers and bodies."""

    name: str
    base_url: str  # ends in /v1
    headers: dict[str, str]
    chat_body: bytes
    stream_body: bytes
    pid: int = 0  # the process whose CPU and memory are the arm's cost (0: not tracked)
    hold_body: bytes = b""  # the open-streams phase's slow stream

    @property
    def chat_url(self) -> str:
        return self.base_url + "/chat/completions"

    def spec(self, **options: Any) -> bytes:
        """What a load generator process reads on its standard input."""
        return orjson.dumps(
            {
                "url": self.chat_url,
                "headers": self.headers,
                "chat_body": self.chat_body.decode(),
                "stream_body": self.stream_body.decode(),
                "hold_body": self.hold_body.decode(),
                **options,
            }
        )


def chat_body(seed: int) -> bytes:
    """The non-streamed request of the throughput and latency phases."""
    return orjson.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
            "seed": seed,
        }
    )


def stream_body(seed: int, chunks: int, token_delay: float) -> bytes:
    """A streamed request for `chunks` token chunks, the engine pausing between them."""
    return orjson.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": chunks,
            "seed": seed,
            "stream": True,
            "stream_options": {"include_usage": True},
            "mock": {"delay": token_delay},
        }
    )


def hold_body(seed: int, token_delay: float) -> bytes:
    """A stream that sends its first token chunk at once and the second `token_delay` later:
    held open by the open-streams phase, which closes it before that second chunk."""
    return orjson.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 2,
            "seed": seed,
            "stream": True,
            "mock": {"delay": token_delay},
        }
    )
