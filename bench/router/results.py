"""bench/RESULTS.md: the comparison with LiteLLM from one run, rendered from the run's JSON.

    python -m bench.router --litellm .venv-litellm/bin --results-md bench/RESULTS.md   # a run
    python -m bench.router.results bench/results/router-<stamp>.json -o bench/RESULTS.md

The first writes it at the end of a run (`make bench-litellm` does); the second renders it
again from a saved run. Either way the file is generated, never edited by hand.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import orjson

from bench.router.comparison import comparison_table
from bench.router.config import LIMITED, ROUTER
from bench.router.formatting import number
from bench.router.report import targets_table
from bench.router.summary import LITELLM
from bench.router.targets import Check

Results = dict[str, Any]
LINGERING_SECONDS = 1.0  # an engine still busy this long after the clients closed: worth a line


def _machine_lines(meta: Results) -> list[str]:
    host = meta.get("machine") or {}
    facts = meta.get("facts", {})
    litellm = host.get("litellm")
    lines = [
        f"- Date: {meta['started']}",
        f"- Command: `{meta.get('command', 'python -m bench.router')}`",
        f"- CPU: {host.get('cpu_model', 'unknown')}, {host.get('cores', '?')} cores",
        f"- RAM: {host.get('ram_gib', '?')} GiB",
        f"- Kernel: {host.get('kernel', '?')}; load average at start {host.get('load_average')}",
        f"- Python: {host.get('python', '?')}",
        f"- LiteLLM: {litellm} (requirements/litellm.lock, its own virtualenv)"
        if litellm
        else "- LiteLLM: not run",
        f"- wrk: {host.get('wrk') or 'not used (Python closed-loop generator)'}",
        f"- Pinning: {host.get('pinning', '?')}",
    ]
    if host.get("litellm_offline"):
        lines.append(f"- LiteLLM network use: {host['litellm_offline']}")
    if "Router" in facts:
        lines.append(f"- Router: {facts['Router']}")
    if "Rounds" in facts:
        lines.append(f"- Rounds: {facts['Rounds']}")
    return lines


def _times(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def _fewer(value: float) -> str:
    """A ratio below 1 read as "N-times less" (1 ÷ value)."""
    if math.isnan(value) or value <= 0:
        return "-"
    return f"{1 / value:.1f}x less"


def reading(summary: Results) -> list[str]:
    """A few sentences on the ratios, from the figures (none when LiteLLM did not run)."""
    router, litellm = summary.get(ROUTER), summary.get(LITELLM)
    if router is None or litellm is None or "vs_litellm" not in router:
        return ["LiteLLM was not run: there is nothing to compare with."]
    vs = router["vs_litellm"]
    limited = summary.get(LIMITED, {}).get("vs_litellm")
    lines = [
        f"- **Throughput**: the router with limits off served {_times(vs['rps_ratio'])} "
        f"LiteLLM's requests per second ({number(router['max_rps'], grouped=True)} vs "
        f"{number(litellm['max_rps'], grouped=True)} req/s)"
        + (f", {_times(limited['rps_ratio'])} with every limit on" if limited else "")
        + "; the target is at least 16x.",
        f"- **Added latency, idle**: one request at a time the router added "
        f"{number(router['idle']['added_p50'], signed=True)} ms at p50 where LiteLLM added "
        f"{number(litellm['idle']['added_p50'], signed=True)} ms: "
        f"{_times(vs['idle']['p50'])} LiteLLM's addition at p50, {_times(vs['idle']['p99'])} "
        "at p99.",
    ]
    for rate, ratio in vs["rates"].items():
        ours, theirs = router["rates"][rate], litellm["rates"][rate]
        if theirs["overloaded"] and not ours["overloaded"]:
            lines.append(
                f"- **At {int(rate):,} req/s** LiteLLM was overloaded "
                f"({number(theirs['achieved_rps'], grouped=True)} req/s got through) while the "
                f"router added {number(ours['added_p50'], signed=True)} / "
                f"{number(ours['added_p99'], signed=True)} ms (p50 / p99)."
            )
        elif ratio["overloaded"]:
            lines.append(f"- **At {int(rate):,} req/s** the router was overloaded too.")
        else:
            lines.append(
                f"- **At {int(rate):,} req/s** the router's addition was "
                f"{_times(ratio['p50'])} LiteLLM's at p50, {_times(ratio['p99'])} at p99."
            )
    own_open = (router.get("open_streams") or {}).get("mb_per_1000", math.nan)
    peer_open = (litellm.get("open_streams") or {}).get("mb_per_1000", math.nan)
    lines += [
        f"- **Streams**: time to first token added {_times(vs['ttft_added_ratio'])} LiteLLM's; "
        f"CPU per stream {_fewer(vs['cpu_stream_ratio'])}.",
        f"- **CPU per request**: {number(router['cpu_ms_per_request'], 3)} vs "
        f"{number(litellm['cpu_ms_per_request'], 3)} ms, {_fewer(vs['cpu_ratio'])}.",
        f"- **Memory**: {number(router['rss_idle_mb'], 0)} vs "
        f"{number(litellm['rss_idle_mb'], 0)} MB idle ({_fewer(vs['rss_ratio'])}); "
        f"{number(own_open, 1)} vs {number(peer_open, 1)} MB more per 1,000 open streams "
        f"({_fewer(vs['open_streams_ratio'])}).",
    ]
    lingering = (litellm.get("open_streams") or {}).get("engine_busy_after_close_s", math.nan)
    own = (router.get("open_streams") or {}).get("engine_busy_after_close_s", math.nan)
    if lingering > LINGERING_SECONDS:  # False for NaN: not measured
        lines.append(
            f"- **Closed streams**: LiteLLM kept its upstream streams running for "
            f"{lingering:.0f} s after its clients had closed theirs (the engine was busy "
            f"until they ended); the engine was idle {number(own, 1)} s after the router's "
            "clients closed."
        )
    return lines


def render(results: Results) -> str:
    """The markdown of bench/RESULTS.md from a run's JSON (its checks as plain dicts)."""
    meta, summary = results["meta"], results["summary"]
    checks = [Check(**check) for check in results["checks"]]
    return (
        "\n\n".join(
            [
                "# Router benchmark results: direct vs IAS router vs LiteLLM",
                "Generated from the latest full run of the router benchmark "
                "(`make bench-litellm`; method and rerun: bench/README.md). Do not edit by "
                "hand: the run rewrites this file. The machine is small and shared, so "
                "absolute numbers are noisy; the ratios taken within the run are what count.",
                "\n".join(_machine_lines(meta)),
                "## The comparison (medians across rounds)",
                comparison_table(summary, meta),
                "Latency cells: absolute for direct, added to direct for the others. "
                "Ratio columns: the IAS arm's figure ÷ LiteLLM's: above 1 is better for "
                "throughput, below 1 better for everything else. CPU and memory of direct are "
                "the mock engine's.",
                "## Reading",
                "\n".join(reading(summary)),
                "## Targets (router, limits off)",
                targets_table(checks),
            ]
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.router.results",
        description="Render bench/RESULTS.md from a router benchmark run's JSON file.",
    )
    parser.add_argument("json", type=Path, help="bench/results/router-<stamp>.json")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of printing")
    args = parser.parse_args()
    markdown = render(orjson.loads(args.json.read_bytes()))
    if args.output:
        args.output.write_text(markdown)
    else:
        print(markdown, end="")


if __name__ == "__main__":
    main()
