"""One table: direct vs the IAS router vs LiteLLM's proxy, and the ratios IAS ÷ LiteLLM.

Metrics are rows and arms columns, so that every figure of one kind reads across. The ratio
columns divide each router arm's figure by LiteLLM's: throughput (above 1: IAS serves more),
and the latency added to direct, CPU and memory (below 1: IAS costs less). Throughput and CPU
ratios are taken within each round; the others are ratios of the reported medians.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.router.config import DIRECT, LIMITED, ROUTER
from bench.router.formatting import DASH, number, table
from bench.router.summary import LITELLM

Summary = dict[str, Any]
COLUMN_TITLES = {
    DIRECT: "direct",
    ROUTER: "IAS router, limits off",
    LIMITED: "IAS router, all limits on",
}


def _litellm_title(meta: Summary) -> str:
    version = (meta.get("machine") or {}).get("litellm")
    return f"LiteLLM {version}" if version else "LiteLLM"


def _ms(value: float) -> str:
    return f"{number(value, signed=True)} ms"


def _pair(first: str, second: str, unit: str = "") -> str:
    return DASH if first == DASH and second == DASH else f"{first} / {second}{unit}"


def _times(value: float) -> str:
    return DASH if math.isnan(value) else f"{number(value)}x"


def _owner(arm: str) -> str:
    """Direct's CPU and memory are the engine's own."""
    return " (engine)" if arm == DIRECT else ""


def _latency(arm: str, measured: Summary) -> str:
    """A latency cell: absolute for direct, the addition to direct for the others."""
    if measured.get("overloaded"):
        return (
            f"overloaded ({number(measured['achieved_rps'], grouped=True)} req/s got through, "
            f"p99 {number(measured['p99'] / 1000)} s)"
        )
    if arm == DIRECT:
        return f"{number(measured['p50'])} / {number(measured['p99'])} ms"
    added = _pair(
        number(measured["added_p50"], signed=True), number(measured["added_p99"], signed=True)
    )
    return added if added == DASH else added + " ms"


def _open_streams(arm: str, data: Summary) -> str:
    measured = data.get("open_streams")
    if not measured:
        return "not run"
    text = f"{number(measured['mb_per_1000'], 1)} MB"
    if not measured["complete"]:
        text += f" (only {measured['opened']:,} of {measured['streams']:,} open)"
    return text + _owner(arm)


def _latency_ratio(ratio: Summary, overloaded: bool = False) -> str:
    if overloaded:
        return "an arm overloaded"
    return _pair(_times(ratio["p50"]), _times(ratio["p99"]))


def _rate_cell(rate: str, arm: str, data: Summary) -> str:
    return _latency(arm, data["rates"][rate])


def _rate_ratio(rate: str, vs_litellm: Summary) -> str:
    ratio = vs_litellm["rates"][rate]
    return _latency_ratio(ratio, ratio["overloaded"])


Row = tuple[str, Callable[[str, Summary], str], Callable[[Summary], str]]


def _rows(rates: list[str], chunks: int, tool: str, connections: int) -> list[Row]:
    """(metric, the arm's cell, the cell of that arm's comparison with LiteLLM)."""
    rows: list[Row] = [
        (
            f"max req/s ({tool} c={connections})",
            lambda arm, data: number(data["max_rps"], grouped=True),
            lambda vs: _times(vs["rps_ratio"]),
        ),
        (
            "latency p50 / p99, idle (one request at a time; direct absolute, others added)",
            lambda arm, data: _latency(arm, data["idle"]),
            lambda vs: _latency_ratio(vs["idle"]),
        ),
    ]
    for rate in rates:
        rows.append(
            (
                f"latency p50 / p99 at {int(rate):,} req/s (direct absolute, others added)",
                partial(_rate_cell, rate),
                partial(_rate_ratio, rate),
            )
        )
    rows += [
        (
            "TTFT p50, 1 stream (direct absolute, others added)",
            lambda arm, data: (
                f"{number(data['stream']['ttft_p50'])} ms"
                if arm == DIRECT
                else _ms(data["stream"]["ttft_added_p50"])
            ),
            lambda vs: _times(vs["ttft_added_ratio"]),
        ),
        (
            "CPU per request",
            lambda arm, data: f"{number(data['cpu_ms_per_request'], 3)} ms{_owner(arm)}",
            lambda vs: _times(vs["cpu_ratio"]),
        ),
        (
            f"CPU per {chunks}-chunk stream",
            lambda arm, data: f"{number(data['stream']['cpu_ms_per_stream'])} ms{_owner(arm)}",
            lambda vs: _times(vs["cpu_stream_ratio"]),
        ),
        (
            "RSS idle",
            lambda arm, data: f"{number(data['rss_idle_mb'], 0)} MB{_owner(arm)}",
            lambda vs: _times(vs["rss_ratio"]),
        ),
        (
            "memory per 1,000 open streams",
            _open_streams,
            lambda vs: _times(vs["open_streams_ratio"]),
        ),
    ]
    return rows


def comparison_table(summary: Summary, meta: Summary) -> str:
    """Direct, the router arms and LiteLLM side by side, with the IAS ÷ LiteLLM ratios."""
    rates = list(next(iter(summary.values()))["rates"])
    config, loadgen = meta["config"], meta["loadgen"]
    rows_spec = _rows(
        rates, config["stream_chunks"], loadgen["throughput_tool"], config["connections"]
    )
    arms = [arm for arm in (DIRECT, ROUTER, LIMITED) if arm in summary]
    litellm = LITELLM in summary
    compared = [arm for arm in arms if "vs_litellm" in summary[arm]]
    header = ["", *(COLUMN_TITLES[arm] for arm in arms), _litellm_title(meta)]
    header += [f"{COLUMN_TITLES[arm]} ÷ LiteLLM" for arm in compared]
    rows = []
    for index, (metric, cell, ratio) in enumerate(rows_spec):
        row = [metric, *(cell(arm, summary[arm]) for arm in arms)]
        if litellm:
            row.append(cell(LITELLM, summary[LITELLM]))
        else:
            reason = meta.get("not_run", {}).get(LITELLM, "")
            row.append(f"not run: {reason}" if index == 0 and reason else "not run")
        row += [ratio(summary[arm]["vs_litellm"]) for arm in compared]
        rows.append(row)
    return table(header, rows)
