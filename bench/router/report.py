"""The run's report: a markdown table like PERFORMANCE.md's, the targets, and the details."""

from __future__ import annotations

from typing import Any

from bench.router.comparison import comparison_table
from bench.router.config import DIRECT, LIMITED, ROUTER
from bench.router.formatting import DASH, number, table
from bench.router.targets import Check

Summary = dict[str, Any]
ARM_TITLES = {
    DIRECT: "direct (client → mock engine)",
    ROUTER: "IAS router, limits off (client → router → engine)",
    LIMITED: "IAS router, all limits on (Redis)",
    "litellm": "LiteLLM proxy, 1 worker",
}


def _latency_cell(arm: str, measured: Summary) -> str:
    if measured["overloaded"]:
        return (
            f"overloaded ({number(measured['achieved_rps'], grouped=True)} req/s got through, "
            f"p99 {number(measured['p99'] / 1000)} s)"
        )
    if arm == DIRECT:
        return f"baseline {number(measured['p50'])} / {number(measured['p99'])} ms"
    added_p50 = number(measured["added_p50"], signed=True)
    return f"{added_p50} / {number(measured['added_p99'], signed=True)} ms"


def _row(arm: str, data: Summary, rates: list[str]) -> list[str]:
    throughput = number(data["max_rps"], grouped=True)
    cpu = f"{number(data['cpu_ms_per_request'], 3)} ms"
    rss = f"{number(data['rss_idle_mb'], 0)} → {number(data['rss_after_mb'], 0)} MB"
    if "vs_router" in data:
        cost = data["vs_router"]
        throughput += (
            f" ({number(data['ratio_to_direct'])}x direct, {number(cost['rps_ratio'])}x router)"
        )
        cpu += f" ({number(cost['cpu_ratio'])}x router)"
        rss += " (same process)"
    elif arm != DIRECT:
        throughput += f" ({number(data['ratio_to_direct'])}x direct)"
    stream = data["stream"]
    ttft = (
        f"baseline {number(stream['ttft_p50'])} ms"
        if arm == DIRECT
        else f"{number(stream['ttft_added_p50'], signed=True)} ms"
    )
    owner = " (engine)" if arm == DIRECT else ""
    open_streams = data.get("open_streams")
    per_1000 = (
        f"{number(open_streams['mb_per_1000'], 1)} MB{owner}"
        + ("" if open_streams["complete"] else " (not all open)")
        if open_streams
        else DASH
    )
    return [
        ARM_TITLES.get(arm, arm),
        throughput,
        *(_latency_cell(arm, data["rates"][rate]) for rate in rates),
        ttft,
        cpu + owner,
        f"{number(stream['cpu_ms_per_stream'])} ms{owner}",
        rss + owner,
        per_1000,
    ]


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
        "memory per 1,000 open streams",
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
            "### Latency when idle (one request at a time)",
            _idle_details(summary),
            "### Latency at fixed rates (open loop, from the scheduled send time)",
            table(latency_header, latency_rows),
            "### Streaming (one stream at a time)",
            table(stream_header, stream_rows),
            "### Open streams (memory)",
            _open_streams_details(summary),
        ]
    )


def _idle_details(summary: Summary) -> str:
    rows = [
        [
            arm,
            number(data["idle"]["p50"]),
            number(data["idle"]["p99"]),
            f"{number(data['idle']['added_p50'], signed=True)} / "
            f"{number(data['idle']['added_p99'], signed=True)}",
            str(data["idle"]["errors"]),
        ]
        for arm, data in summary.items()
    ]
    header = ["arm", "p50 ms", "p99 ms", "added to direct p50 / p99 ms", "errors"]
    return table(header, rows)


def _open_streams_details(summary: Summary) -> str:
    rows = []
    for arm, data in summary.items():
        measured = data.get("open_streams")
        if not measured:
            rows.append([arm, "not run", *[DASH] * 6])
            continue
        rows.append(
            [
                arm,
                f"{measured['opened']:,} of {measured['streams']:,}",
                f"{measured['failed']} / {measured['ended_while_held']}",
                number(measured["seconds_to_open"], 1),
                f"{number(measured['idle_mb'], 0)} → {number(measured['open_mb'], 0)}",
                number(measured["mb_per_1000"], 1),
                number(measured["engine_busy_after_close_s"], 1),
            ]
        )
    header = [
        "arm", "streams open", "failed / ended while held", "seconds to open all",
        "RSS idle → open MB", "MB per 1,000", "engine busy after the clients closed, s",
    ]  # fmt: skip
    return table(header, rows)


def _limits_cost(summary: Summary) -> str:
    """What turning every limit on adds to the router arm, taken within each round."""
    limited, router = summary[LIMITED], summary[ROUTER]
    cost = limited["vs_router"]
    rows = [
        [
            "max req/s",
            number(router["max_rps"], grouped=True),
            number(limited["max_rps"], grouped=True),
            f"{number(cost['rps_ratio'])}x",
        ],
        [
            "router CPU per request",
            f"{number(router['cpu_ms_per_request'], 3)} ms",
            f"{number(limited['cpu_ms_per_request'], 3)} ms",
            f"{number(cost['cpu_ratio'])}x, {number(cost['cpu_added_ms'], 3, signed=True)} ms",
        ],
        [
            "Redis CPU per request",
            f"{number(router['redis_cpu_ms_per_request'], 3)} ms",
            f"{number(limited['redis_cpu_ms_per_request'], 3)} ms",
            f"{number(cost['redis_cpu_added_ms'], 3, signed=True)} ms",
        ],
    ]
    for rate, added in cost["rates"].items():
        ours, theirs = limited["rates"][rate], router["rates"][rate]
        difference = (
            "one arm overloaded"
            if ours["overloaded"] or theirs["overloaded"]
            else f"{number(added['added_p50'], signed=True)} / "
            f"{number(added['added_p99'], signed=True)} ms"
        )
        rows.append(
            [
                f"p50 / p99 at {int(rate):,} req/s",
                f"{number(theirs['p50'])} / {number(theirs['p99'])} ms",
                f"{number(ours['p50'])} / {number(ours['p99'])} ms",
                difference,
            ]
        )
    rows.append(
        [
            "TTFT p50 (1 stream)",
            f"{number(router['stream']['ttft_p50'])} ms",
            f"{number(limited['stream']['ttft_p50'])} ms",
            f"{number(cost['ttft_added_p50'], signed=True)} ms",
        ]
    )
    fallbacks = cost["limiter_fallbacks"]
    where = ", ".join(
        f"{count} in {'streams' if phase == 'stream' else phase}"
        if not phase.isdigit()
        else f"{count} at {int(phase):,} req/s"
        for phase, count in fallbacks.items()
    )
    rows.append(
        ["limiter fallbacks to memory (all rounds)", "-", str(sum(fallbacks.values())), where]
    )
    header = ["", ROUTER, LIMITED, f"{LIMITED} vs {ROUTER} (within each round)"]
    return table(header, rows)


def _per_round(rounds: list[Summary]) -> str:
    arms = list(rounds[0]["throughput"]) if rounds else []
    compare = ROUTER in arms and LIMITED in arms
    header = ["round", "order", *(f"{arm} max req/s" for arm in arms)]
    header += [f"{LIMITED} ÷ {ROUTER}"] if compare else []
    rows = []
    for index, round_ in enumerate(rounds):
        throughput = round_["throughput"]
        row = [
            str(index + 1),
            " → ".join(round_["order"]),
            *(number(throughput[arm]["rps"], grouped=True) for arm in arms),
        ]
        if compare:
            base = throughput[ROUTER]["rps"]
            row.append(f"{number(throughput[LIMITED]['rps'] / base)}x" if base else DASH)
        rows.append(row)
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
                "## Direct vs IAS router vs LiteLLM",
                comparison_table(summary, meta),
                "## Targets",
                targets_table(checks),
                "## Details",
                *(
                    [f"### What all limits on cost ({LIMITED} vs {ROUTER})", _limits_cost(summary)]
                    if "vs_router" in summary.get(LIMITED, {})
                    else []
                ),
                _details(summary),
                "### Throughput per round",
                _per_round(rounds),
            ]
        )
        + "\n"
    )
