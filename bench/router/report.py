"""The run's report: a markdown table like PERFORMANCE.md's, the targets, and the details."""

from __future__ import annotations

from typing import Any

from bench.router.formatting import DASH, number
from bench.router.targets import Check

Summary = dict[str, Any]
ARM_TITLES = {
    "direct": "direct (client → mock engine)",
    "router": "IAS router (client → router → engine)",
    "litellm": "LiteLLM proxy, 1 worker",
}


def _latency_cell(arm: str, measured: Summary) -> str:
    if measured["overloaded"]:
        return (
            f"overloaded ({number(measured['achieved_rps'], grouped=True)} req/s got through, "
            f"p99 {number(measured['p99'] / 1000)} s)"
        )
    if arm == "direct":
        return f"baseline {number(measured['p50'])} / {number(measured['p99'])} ms"
    added_p50 = number(measured["added_p50"], signed=True)
    return f"{added_p50} / {number(measured['added_p99'], signed=True)} ms"


def _row(arm: str, data: Summary, rates: list[str]) -> list[str]:
    throughput = number(data["max_rps"], grouped=True)
    if arm != "direct":
        throughput += f" ({number(data['ratio_to_direct'])}x direct)"
    stream = data["stream"]
    ttft = (
        f"baseline {number(stream['ttft_p50'])} ms"
        if arm == "direct"
        else f"{number(stream['ttft_added_p50'], signed=True)} ms"
    )
    owner = " (engine)" if arm == "direct" else ""
    return [
        ARM_TITLES.get(arm, arm),
        throughput,
        *(_latency_cell(arm, data["rates"][rate]) for rate in rates),
        ttft,
        f"{number(data['cpu_ms_per_request'], 3)} ms{owner}",
        f"{number(stream['cpu_ms_per_stream'])} ms{owner}",
        f"{number(data['rss_idle_mb'], 0)} → {number(data['rss_after_mb'], 0)} MB{owner}",
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(summary: Summary, meta: Summary) -> str:
    rates = list(next(iter(summary.values()))["rates"])
    chunks = meta["config"]["stream_chunks"]
    header = [
        "arm",
        f"max req/s ({meta['loadgen']['throughput_tool']} c={meta['config']['connections']})",
        *(f"added p50 / p99 at {int(rate):,} req/s" for rate in rates),
        "TTFT added (1 stream)",
        "CPU per request",
        f"CPU per {chunks}-chunk stream",
        "RSS idle → after load",
    ]
    rows = [_row(arm, data, rates) for arm, data in summary.items()]
    for arm, reason in meta.get("not_run", {}).items():
        rows.append([ARM_TITLES.get(arm, arm), f"not run: {reason}", *[DASH] * (len(header) - 2)])
    return table(header, rows)


def targets_table(checks: list[Check]) -> str:
    rows = [[check.metric, check.target, check.measured, check.mark] for check in checks]
    return table(["metric (router)", "target", "measured", "verdict"], rows)


def _details(summary: Summary) -> str:
    latency_rows = []
    stream_rows = []
    for arm, data in summary.items():
        for rate, measured in data["rates"].items():
            latency_rows.append(
                [
                    arm,
                    f"{int(rate):,}",
                    number(measured["achieved_rps"], grouped=True),
                    number(measured["p50"]),
                    number(measured["p99"]),
                    str(measured["errors"]),
                    f"{number(measured['service_p50'])} / {number(measured['service_p99'])}",
                    number(measured["send_lag_p99"]),
                ]
            )
        stream = data["stream"]
        stream_rows.append(
            [
                arm,
                number(stream["ttft_p50"]),
                f"{number(stream['gap_p50'])} / {number(stream['gap_p99'])}",
                "/".join(map(str, stream["events_per_stream"])),
                "/".join(map(str, stream["tokens_per_stream"])),
                number(stream["token_arrivals"], 0),
                str(stream["errors"]),
            ]
        )
    latency_header = [
        "arm", "offered req/s", "achieved req/s", "p50 ms", "p99 ms", "errors",
        "p50 / p99 ms from the actual send", "client send lag p99 ms",
    ]  # fmt: skip
    stream_header = [
        "arm", "TTFT p50 ms", "inter-chunk gap p50 / p99 ms", "SSE events per stream",
        "token chunks per stream", "separate token arrivals", "errors",
    ]  # fmt: skip
    return "\n\n".join(
        [
            "### Latency at fixed rates (open loop, from the scheduled send time)",
            table(latency_header, latency_rows),
            "### Streaming (one stream at a time)",
            table(stream_header, stream_rows),
        ]
    )


def _per_round(rounds: list[Summary]) -> str:
    arms = list(rounds[0]["throughput"]) if rounds else []
    header = ["round", "order", *(f"{arm} max req/s" for arm in arms)]
    rows = [
        [
            str(index + 1),
            " → ".join(round_["order"]),
            *(number(round_["throughput"][arm]["rps"], grouped=True) for arm in arms),
        ]
        for index, round_ in enumerate(rounds)
    ]
    return table(header, rows)


def render(meta: Summary, summary: Summary, checks: list[Check], rounds: list[Summary]) -> str:
    facts = [f"- {label}: {value}" for label, value in meta["facts"].items()]
    return (
        "\n\n".join(
            [
                f"# Router benchmark, {meta['started']}",
                "\n".join(facts),
                "## Result (medians across rounds)",
                main_table(summary, meta),
                "## Targets",
                targets_table(checks),
                "## Details",
                _details(summary),
                "### Throughput per round",
                _per_round(rounds),
            ]
        )
        + "\n"
    )
