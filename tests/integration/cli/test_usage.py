"""`ias-admin usage show | export`: the usage report of real traffic, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.cli.conftest import Cli, Live

CALLS = 2
NO_SUCH_ORG = "error: no organization named 'no-such-org' (or you cannot see it)\n"


@dataclass
class Traffic:
    org: str
    model: str
    key_name: str
    prompt_tokens: int
    completion_tokens: int


def _chat(url: str, key: str, model: str) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": "Count to three."}]}
    deadline = time.monotonic() + 5
    while True:
        response = httpx.post(
            f"{url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
        )
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer
        time.sleep(0.1)


def _report(cli: Cli, *args: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(cli.ok("usage", "show", *args, "--json").stdout)
    return report


@pytest.fixture(scope="module")
def traffic(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Traffic:
    """An org whose key made `CALLS` chat requests, once the ledger has them all."""
    cli = Cli(live, tmp_path_factory.mktemp("usage-config"))
    cli.login()
    tag = uuid.uuid4().hex[:8]
    org, model, key_name = f"usage-{tag}", f"usage-chat-{tag}", f"reporting-{tag}"
    cli.ok("org", "create", org)
    cli.ok(
        "model", "add", model, "--kind", "chat", "--upstream-model", "org/upstream-chat-7b",
        "--input-price-per-mtok", "1", "--output-price-per-mtok", "2",
        "--backend", live.engine_url,
    )  # fmt: skip
    key = json.loads(cli.ok("key", "create", org, "--name", key_name, "--json").stdout)["key"]
    answers = [_chat(live.url, key, model) for _ in range(CALLS)]
    deadline = time.monotonic() + 10
    while _report(cli, org, "--granularity", "minute")["totals"]["requests"] < CALLS:
        assert time.monotonic() < deadline, "the ledger never recorded the calls"
        time.sleep(0.2)
    return Traffic(
        org,
        model,
        key_name,
        sum(answer["usage"]["prompt_tokens"] for answer in answers),
        sum(answer["usage"]["completion_tokens"] for answer in answers),
    )


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_show_prints_buckets_and_a_totals_row(admin: Cli, traffic: Traffic) -> None:
    shown = admin.ok("usage", "show", traffic.org, "--group-by", "model").stdout
    assert f"usage of {traffic.org} by day" in shown
    lines = shown.splitlines()
    [bucket] = [line for line in lines if traffic.model in line]
    [total] = [line for line in lines if line.strip().startswith("total")]
    for line in (bucket, total):
        assert f" {CALLS} " in line
        assert f" {traffic.prompt_tokens} " in line
        assert f" {traffic.completion_tokens} " in line
    assert "cost (USD)" in shown


def test_show_json_is_the_api_report(admin: Cli, traffic: Traffic) -> None:
    report = _report(admin, traffic.org, "--granularity", "hour", "--group-by", "api_key")
    assert (report["granularity"], report["group_by"]) == ("hour", "api_key")
    [row] = report["data"]
    assert row["api_key_name"] == traffic.key_name
    totals = report["totals"]
    assert (totals["requests"], totals["prompt_tokens"], totals["completion_tokens"]) == (
        CALLS,
        traffic.prompt_tokens,
        traffic.completion_tokens,
    )
    expected_micros = traffic.prompt_tokens * 1 + traffic.completion_tokens * 2
    assert totals["cost_micros"] == expected_micros


def test_show_a_window_without_traffic_has_only_the_totals_row(
    admin: Cli, traffic: Traffic
) -> None:
    window = ("--start", "2001-01-01T00:00:00Z", "--end", "2001-01-03T00:00:00+00:00")
    report = _report(admin, traffic.org, *window)
    assert report["data"] == []
    assert report["totals"]["requests"] == 0
    assert report["start"].startswith("2001-01-01")
    shown = admin.ok("usage", "show", traffic.org, *window).stdout
    assert "total" in shown
    assert traffic.model not in shown


def test_show_all_orgs_is_the_platform_report(admin: Cli, traffic: Traffic) -> None:
    platform = _report(admin, "--all-orgs", "--group-by", "org", "--start", "1d")
    ours = [row for row in platform["data"] if row["org_name"] == traffic.org]
    assert sum(row["requests"] for row in ours) == CALLS
    assert platform["totals"]["requests"] >= CALLS
    one_org = _report(admin, traffic.org, "--all-orgs", "--group-by", "model")
    assert one_org["totals"]["requests"] == CALLS
    shown = admin.ok("usage", "show", "--all-orgs", "--group-by", "org").stdout
    assert "usage of every organization" in shown
    assert traffic.org in shown


def test_export_writes_the_csv_with_a_header_row(
    admin: Cli, traffic: Traffic, tmp_path: Path
) -> None:
    printed = admin.ok("usage", "export", traffic.org, "--csv", "--group-by", "model").stdout
    rows = list(csv.DictReader(io.StringIO(printed)))
    assert printed.startswith("bucket,")
    [row] = rows
    assert row["model"] == traffic.model
    assert int(row["requests"]) == CALLS

    target = tmp_path / "usage.csv"
    said = admin.ok(
        "usage", "export", traffic.org, "--csv", "--group-by", "model", "--output", str(target)
    ).stdout
    assert str(target) in said
    assert target.read_text() == printed


def test_export_json_is_the_report(admin: Cli, traffic: Traffic, tmp_path: Path) -> None:
    exported = json.loads(admin.ok("usage", "export", traffic.org, "--json").stdout)
    assert exported["totals"]["requests"] == CALLS
    target = tmp_path / "usage.json"
    admin.ok("usage", "export", traffic.org, "--json", "-o", str(target))
    assert json.loads(target.read_text())["totals"] == exported["totals"]


def test_wrong_arguments_are_usage_errors(admin: Cli, traffic: Traffic) -> None:
    org = traffic.org
    for args in (
        ("show", org, "--granularity", "week"),
        ("show", org, "--group-by", "colour"),
        ("show", org, "--group-by", "org"),
        ("show",),
        ("show", org, "--start", "yesterday"),
        ("show", org, "--end", "2025-01-01T00:00:00"),
        ("export", org, "--granularity", "week"),
        ("export", org, "--csv", "--json"),
        ("export", org, "--group-by", "org"),
        ("export",),
    ):
        result = admin("usage", *args)
        assert result.exit_code == 2, (args, result.output)


def test_refusals_are_one_line(admin: Cli, traffic: Traffic) -> None:
    for args in (
        ("show", "no-such-org"),
        ("export", "no-such-org", "--csv"),
        ("show", "no-such-org", "--all-orgs"),
    ):
        result = admin("usage", *args)
        assert result.exit_code == 1, args
        assert result.stderr == NO_SUCH_ORG
    backwards = admin("usage", "show", traffic.org, "--start", "1d", "--end", "2d")
    assert backwards.exit_code == 1
    assert backwards.stderr.startswith("error: start ")
    assert len(backwards.stderr.splitlines()) == 1


def test_help_shows_examples_and_keeps_reconcile(cli: Cli) -> None:
    group = cli.ok("usage", "--help").stdout
    for command in ("show", "export", "reconcile"):
        assert command in group
    for args in (("usage",), ("usage", "show"), ("usage", "export")):
        shown = cli.ok(*args, "--help").stdout
        assert "Example:" in shown, args
        assert "ias-admin usage " in shown, args
