"""`python -m bench.usage`: the usage pipeline's two figures, written to bench/results/.

1. Ingest: events per second from RabbitMQ through `ias worker usage` into PostgreSQL (raw rows
   and rollups, committed), measured on a queue filled beforehand, from the first stored row to
   the last, over several rounds.
2. Freshness: how long after a response ends its request shows in the usage API, for requests
   sent through a router at a steady rate, with the router, worker and control plane running as
   they do in production.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.router.runner import say
from bench.usage.freshness import measure_freshness
from bench.usage.ingest import measure_ingest
from bench.usage.setup import UsageStack, running_usage_stack


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.usage", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=200_000, help="events per ingest round")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s for freshness")
    parser.add_argument("--seconds", type=float, default=30.0, help="freshness duration")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    return parser.parse_args()


def _report(stack: UsageStack, ingest: dict[str, object], fresh: dict[str, object]) -> str:
    lines = [
        "# Usage pipeline benchmark",
        "",
        f"- {stack.describe()}",
        "",
        "| figure | target | measured | verdict |",
        "|---|---|---|---|",
        _row("ingest, events/s (median of rounds)", 20_000, ingest["median_events_per_s"], ">="),
        _row("freshness p99, s", 2.0, fresh["p99_s"], "<="),
        "",
        f"Ingest rounds (events/s): {ingest['rounds']}; worker CPU per event (median): "
        f"{ingest['cpu_us_per_event']} µs.",
        f"Freshness: {fresh['requests']} requests at {fresh['rate']}/s; p50 {fresh['p50_s']} s, "
        f"p99 {fresh['p99_s']} s, max {fresh['max_s']} s.",
    ]
    return "\n".join(lines) + "\n"


def _row(name: str, target: float, measured: object, sense: str) -> str:
    value = float(measured)  # type: ignore[arg-type]
    ok = value >= target if sense == ">=" else value <= target
    return f"| {name} | {sense} {target:g} | {value:,.2f} | {'pass' if ok else '**FAIL**'} |"


def main() -> None:
    options = parse_args()
    started = datetime.now(UTC)
    with running_usage_stack() as stack:
        ingest = asyncio.run(measure_ingest(stack, options.rounds, options.events))
        fresh = asyncio.run(measure_freshness(stack, options.rate, options.seconds))
    report = _report(stack, ingest, fresh)
    print(report)
    options.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (options.results_dir / f"usage-{stamp}.md").write_text(report)
    (options.results_dir / f"usage-{stamp}.json").write_bytes(
        orjson.dumps({"ingest": ingest, "freshness": fresh}, option=orjson.OPT_INDENT_2)
    )
    say(f"written: {options.results_dir}/usage-{stamp}.md")


if __name__ == "__main__":
    main()
