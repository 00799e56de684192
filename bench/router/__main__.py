"""`python -m bench.router`: run the router benchmark and write its report."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import orjson

from bench.router.config import BenchConfig
from bench.router.processes import REPO
from bench.router.report import render
from bench.router.results import render as render_results
from bench.router.runner import run, say


def _rates(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def parse_args() -> BenchConfig:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m bench.router",
        description="What the IAS router adds to talking to the backend directly.",
    )
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument(
        "--duration", type=float, default=defaults.throughput_seconds, help="throughput seconds"
    )
    parser.add_argument(
        "--rates", type=_rates, default=defaults.rates, help="comma-separated req/s"
    )
    parser.add_argument("--rate-seconds", type=float, default=defaults.rate_seconds)
    parser.add_argument(
        "--streams", type=int, default=defaults.streams, help="streams one at a time"
    )
    parser.add_argument(
        "--idle-requests",
        type=int,
        default=defaults.idle_requests,
        help="requests one at a time, per arm and round: the latency an idle arm adds",
    )
    parser.add_argument(
        "--open-streams",
        type=int,
        default=defaults.open_streams,
        help="streams held open at once for the memory per 1,000 open streams",
    )
    parser.add_argument(
        "--litellm",
        type=Path,
        metavar="VENV_BIN",
        help="bin/ folder of a virtualenv with LiteLLM's proxy installed: adds the LiteLLM arm",
    )
    parser.add_argument(
        "--python-loadgen",
        action="store_true",
        help="measure throughput with the Python generator even if wrk is installed",
    )
    parser.add_argument("--results-dir", type=Path, default=REPO / defaults.results_dir)
    parser.add_argument(
        "--results-md",
        type=Path,
        metavar="PATH",
        help="also write the comparison with LiteLLM there (bench/RESULTS.md)",
    )
    args = parser.parse_args()
    if args.open_streams < 1 or args.idle_requests < 1:
        parser.error("--open-streams and --idle-requests must be at least 1")
    return BenchConfig(
        rounds=args.rounds,
        connections=args.connections,
        throughput_seconds=args.duration,
        rates=args.rates,
        rate_seconds=args.rate_seconds,
        streams=args.streams,
        idle_requests=args.idle_requests,
        open_streams=args.open_streams,
        litellm_bin=args.litellm,
        force_python_loadgen=args.python_loadgen,
        results_dir=args.results_dir,
        results_md=args.results_md,
    )


def main() -> None:
    config = parse_args()
    results = run(config)
    markdown = render(results["meta"], results["summary"], results["checks"], results["rounds"])
    config.results_dir.mkdir(parents=True, exist_ok=True)
    stem = config.results_dir / f"router-{results['meta']['stamp']}"
    stem.with_suffix(".md").write_text(markdown)
    results["checks"] = [asdict(check) for check in results["checks"]]
    stem.with_suffix(".json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(markdown)
    say(f"written: {stem}.md and {stem}.json")
    if config.results_md is not None:
        # From the JSON as written, so `python -m bench.router.results` renders the same file.
        config.results_md.write_text(
            render_results(orjson.loads(stem.with_suffix(".json").read_bytes()))
        )
        say(f"written: {config.results_md}")


if __name__ == "__main__":
    main()
