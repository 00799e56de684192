"""The observability assets in deploy/observability stay consistent with what IAS exports.

Nothing there can run here (no Kubernetes, no Grafana), so these tests parse everything and
check it against one list of metric names (`METRICS`), the SQLAlchemy models of the tables the
SQL panels read, and, once they exist, the metrics modules that register those names.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARDS = sorted((OBSERVABILITY / "dashboards").glob("*.json"))
RULES = OBSERVABILITY / "alerts" / "ias-rules.yaml"
VALUES = OBSERVABILITY / "values"

# Every metric the dashboards and alerts may use: name -> (type, label names). This is the one
# place the names are written down; histograms are listed by base name and used with their
# _bucket, _sum and _count series. Labels are bounded: never an org, key or user id.
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    # router (`ias serve router`, `ias up`)
    "ias_router_requests_total": ("counter", ("model", "endpoint", "status")),
    "ias_router_request_duration_seconds": ("histogram", ("model", "endpoint")),
    "ias_router_time_to_first_token_seconds": ("histogram", ("model",)),
    "ias_router_tokens_total": ("counter", ("model", "kind")),
    "ias_router_upstream_errors_total": ("counter", ("backend", "reason")),
    "ias_router_upstream_retries_total": ("counter", ("backend",)),
    "ias_router_backend_up": ("gauge", ("backend", "model")),
    "ias_router_limiter_refusals_total": ("counter", ("reason",)),
    "ias_router_limiter_degraded": ("gauge", ()),
    "ias_usage_spool_events": ("gauge", ()),
    "ias_usage_spool_bytes": ("gauge", ()),
    "ias_usage_publish_lag_seconds": ("gauge", ()),
    "ias_usage_published_events_total": ("counter", ()),
    "ias_usage_publish_failures_total": ("counter", ()),
    # control plane
    "ias_control_requests_total": ("counter", ("method", "route", "status")),
    "ias_control_request_duration_seconds": ("histogram", ("method", "route")),
    "ias_control_failed_logins_total": ("counter", ("reason",)),
    # ledger worker
    "ias_ledger_batch_events": ("histogram", ()),
    "ias_ledger_lag_seconds": ("gauge", ()),
    "ias_ledger_events_total": ("counter", ("outcome",)),
    "ias_ledger_db_retries_total": ("counter", ()),
    # engines (vLLM and the built-in engine, src/ias/engine/metrics.py)
    "vllm:prompt_tokens_total": ("counter", ("model_name",)),
    "vllm:generation_tokens_total": ("counter", ("model_name",)),
    "vllm:num_requests_running": ("gauge", ("model_name",)),
    "vllm:num_requests_waiting": ("gauge", ("model_name",)),
    # Prometheus's own
    "up": ("gauge", ()),
}

# Labels the scraper attaches to every series (values/alloy.yaml), and `le` on buckets.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "component"})
FORBIDDEN_LABELS = frozenset({"org", "org_id", "api_key", "api_key_id", "key", "user", "user_id"})

# Which metrics module registers which names.
METRICS_MODULES: dict[str, tuple[str, ...]] = {
    "ias.router.metrics": ("ias_router_", "ias_usage_"),
    "ias.control.metrics": ("ias_control_",),
    "ias.analytics.metrics": ("ias_ledger_",),
}

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PROMQL_FUNCTIONS = _words(
    # aggregations
    "sum min max avg count stddev stdvar topk bottomk quantile count_values group "
    # functions
    "abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month "
    "day_of_week delta deriv exp floor histogram_quantile holt_winters hour idelta increase "
    "irate label_join label_replace ln log2 log10 minute month predict_linear rate resets "
    "round scalar sort sort_desc sqrt time timestamp vector year avg_over_time min_over_time "
    "max_over_time sum_over_time count_over_time quantile_over_time stddev_over_time "
    "last_over_time present_over_time "
    # Grafana's variable queries
    "label_values query_result"
)
PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"}
)
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")

PG_TYPE = "grafana-postgresql-datasource"
SQL_WORDS = _words(
    "select from where and or not as join inner left on group by order asc desc limit null is "
    "in distinct case when then else end sum count avg min max coalesce nullif round text "
    "float8 numeric bigint uuid true false"
)


# ------------------------------------------------------------------------------ helpers


def allowed_series() -> set[str]:
    names: set[str] = set()
    for name, (kind, _) in METRICS.items():
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
        else:
            names.add(name)
    return names


def series_base(name: str) -> str:
    """The METRICS key a series name belongs to (strips a histogram suffix)."""
    if name in METRICS:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and METRICS.get(name.removesuffix(suffix), ("",))[0] == (
            "histogram"
        ):
            return name.removesuffix(suffix)
    return name


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def promql_metric_names(expr: str) -> set[str]:
    """Every metric name in a PromQL expression (or a Grafana variable query).

    Strings, label matchers, range selectors and grouping clauses are removed first; what is
    left that is neither a function nor a keyword nor a number is a metric name: in practice
    an identifier followed by `{`, `[`, or closing a function argument, or a bare operand.
    """
    text = _strip_strings(expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = GROUPING.sub(" ", text)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)
    names: set[str] = set()
    for match in re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if word.lower() in PROMQL_KEYWORDS:
            continue
        if call:
            assert word in PROMQL_FUNCTIONS, f"unknown PromQL function {word!r} in {expr!r}"
        else:
            names.add(word)
    return names


def promql_label_uses(expr: str) -> Iterator[tuple[str | None, str]]:
    """(metric or None, label) for every label an expression matches on or groups by."""
    text = _strip_strings(expr)
    for match in re.finditer(r"([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", text):
        for label in re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", match.group(2)):
            yield match.group(1), label
    for match in GROUPING.finditer(text):
        for label in re.split(r"\s*,\s*", match.group(2).strip()):
            if label:
                yield None, label


def walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def load_dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def dashboard_targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for panel in walk_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield (
                panel["title"],
                {**target, "datasource": target.get("datasource") or panel.get("datasource")},
            )


def dashboard_promql(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for title, target in dashboard_targets(dashboard):
        if "expr" in target:
            yield title, target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query" and variable["datasource"]["type"] == "prometheus":
            query = variable["query"]
            yield (
                f"variable {variable['name']}",
                query["query"] if isinstance(query, dict) else query,
            )


def dashboard_sql(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for title, target in dashboard_targets(dashboard):
        if target["datasource"]["type"] == PG_TYPE:
            yield title, target["rawSql"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query" and variable["datasource"]["type"] == PG_TYPE:
            yield f"variable {variable['name']}", variable["query"]


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def all_promql() -> Iterator[tuple[str, str]]:
    for path in DASHBOARDS:
        for where, expr in dashboard_promql(load_dashboard(path)):
            yield f"{path.name}: {where}", expr
    for rule in load_rules():
        yield f"{RULES.name}: {rule['alert']}", rule["expr"]


def table_columns() -> dict[str, set[str]]:
    from ias.models.orgs import Org
    from ias.models.usage import UsageRollup

    return {
        model.__tablename__: set(model.__table__.columns.keys()) for model in (Org, UsageRollup)
    }


def sql_problems(sql: str, tables: dict[str, set[str]]) -> list[str]:
    """Tables and columns a dashboard query names that the models do not have."""
    text = re.sub(r"--[^\n]*", " ", sql)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)  # variables and macros, keeping (args)
    problems: list[str] = []
    aliases: dict[str, str] = {}
    named = re.findall(r"\b(?:from|join)\s+(\w+)(?:\s+(?:as\s+)?(\w+))?", text, flags=re.IGNORECASE)
    for table, alias in named:
        if table not in tables:
            problems.append(f"unknown table {table}")
            continue
        aliases[table] = table
        if alias and alias.lower() not in SQL_WORDS:
            aliases[alias] = table
    for alias, column in re.findall(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b", text):
        if alias not in aliases:
            problems.append(f"unknown table alias {alias}")
        elif column not in tables[aliases[alias]]:
            problems.append(f"unknown column {aliases[alias]}.{column}")
    text = re.sub(r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\b", " ", text)
    text = re.sub(r"::\s*\w+", " ", text)
    outputs = set(re.findall(r"\bas\s+(\w+)", text, flags=re.IGNORECASE))
    known = set().union(*(tables[table] for table in set(aliases.values()))) if aliases else set()
    for word in re.findall(r"\b[A-Za-z_]\w*\b", text):
        if word.lower() in SQL_WORDS or word in outputs or word in {*aliases, *dict(named)}:
            continue
        if word not in known:
            problems.append(f"unknown column {word}")
    return problems


# ------------------------------------------------------------------------------ the parsers


def test_metric_name_parser_finds_names_and_only_names() -> None:
    expr = (
        'sum by (model, status) (rate(ias_router_requests_total{status=~"5..", model="a{b"}'
        "[$__rate_interval])) / ignoring (status) group_left "
        "sum(rate(vllm:prompt_tokens_total[5m] offset 1h)) > 0.5 and ias_usage_spool_events"
        " or histogram_quantile(0.99, rate(ias_ledger_batch_events_bucket[1m])) * 1e-3"
    )
    assert promql_metric_names(expr) == {
        "ias_router_requests_total",
        "vllm:prompt_tokens_total",
        "ias_usage_spool_events",
        "ias_ledger_batch_events_bucket",
    }
    assert promql_metric_names("label_values(ias_router_requests_total, model)") == {
        "ias_router_requests_total",
        "model",  # a label here, which the caller skips for variable queries
    }
    with pytest.raises(AssertionError, match="unknown PromQL function"):
        promql_metric_names("rat(ias_router_requests_total[5m])")


def test_sql_checker_catches_unknown_columns_and_tables() -> None:
    tables = {"usage_rollups": {"org_id", "requests", "bucket"}, "orgs": {"id", "name"}}
    good = (
        "SELECT o.name AS org, SUM(r.requests) AS n FROM usage_rollups r JOIN orgs o "
        "ON o.id = r.org_id WHERE $__timeFilter(r.bucket) AND r.org_id = ${org:sqlstring} "
        "GROUP BY o.name ORDER BY n DESC"
    )
    assert sql_problems(good, tables) == []
    assert sql_problems("SELECT SUM(tokens) FROM usage_rollups", tables) == [
        "unknown column tokens"
    ]
    assert sql_problems("SELECT o.slug FROM orgs o", tables) == ["unknown column orgs.slug"]
    assert sql_problems("SELECT id FROM api_keys", tables) == [
        "unknown table api_keys",
        "unknown column id",
    ]


# ------------------------------------------------------------------------------ dashboards


def test_the_dashboards_exist() -> None:
    uids = {load_dashboard(path)["uid"] for path in DASHBOARDS}
    assert uids == {"ias-overview", "ias-models", "ias-usage-pipeline", "ias-org-usage"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_is_well_formed(path: Path) -> None:
    dashboard = load_dashboard(path)
    assert dashboard["schemaVersion"] >= 39
    assert dashboard["title"].startswith("IAS / ")
    ids = [panel["id"] for panel in walk_panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in walk_panels(dashboard["panels"]):
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel.get("targets"), f"{panel['title']} has no query"
            assert panel.get("description"), f"{panel['title']} has no description"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_data_sources_are_variables(path: Path) -> None:
    dashboard = load_dashboard(path)
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    expected = {"prometheus": "DS_PROMETHEUS", PG_TYPE: "DS_POSTGRES"}
    for title, target in dashboard_targets(dashboard):
        source = target["datasource"]
        name = expected[source["type"]]
        assert source["uid"] == f"${{{name}}}", title
        assert variables[name]["type"] == "datasource"
        assert variables[name]["query"] == source["type"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_queries_use_only_defined_variables(path: Path) -> None:
    dashboard = load_dashboard(path)
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    queries = [expr for _, expr in dashboard_promql(dashboard)]
    queries += [sql for _, sql in dashboard_sql(dashboard)]
    for query in queries:
        for name in re.findall(r"\$\{?(\w+)", query):
            assert name.startswith("__") or name in defined, f"${name} in {query!r}"


def test_model_dashboard_has_a_model_variable() -> None:
    dashboard = load_dashboard(OBSERVABILITY / "dashboards" / "ias-models.json")
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert "label_values(ias_router_requests_total, model)" in variables["model"]["definition"]
    assert any('model=~"$model"' in expr for _, expr in dashboard_promql(dashboard))


def test_org_dashboard_has_an_org_variable_from_the_orgs_table() -> None:
    dashboard = load_dashboard(OBSERVABILITY / "dashboards" / "ias-org-usage.json")
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert re.search(r"\bFROM orgs\b", variables["org"]["query"])
    assert variables["org"]["datasource"]["type"] == PG_TYPE


# ------------------------------------------------------------------------------ PromQL


def test_every_promql_expression_names_only_known_metrics() -> None:
    allowed = allowed_series()
    seen: set[str] = set()
    unknown: list[str] = []
    for where, expr in all_promql():
        names = promql_metric_names(expr)
        if where.split(": ", 1)[1].startswith("variable "):
            names = {name for name in names if name.startswith(("ias_", "vllm:"))}
        assert names, f"{where}: no metric in {expr!r}"
        unknown += [f"{where}: {name}" for name in sorted(names - allowed)]
        seen |= {series_base(name) for name in names}
    assert not unknown, "metrics not in METRICS:\n" + "\n".join(unknown)
    # The assets cover what is exported: every metric is on a dashboard or in a rule.
    assert set(METRICS) - {"up"} <= seen, sorted(set(METRICS) - {"up"} - seen)


def test_every_label_used_belongs_to_its_metric() -> None:
    all_labels = {label for _, labels in METRICS.values() for label in labels}
    problems: list[str] = []
    for where, expr in all_promql():
        for metric, label in promql_label_uses(expr):
            if label in FORBIDDEN_LABELS:
                problems.append(f"{where}: unbounded label {label}")
            elif metric:
                declared = set(METRICS.get(series_base(metric), ("", ()))[1])
                if metric.endswith("_bucket"):
                    declared.add("le")
                if label not in declared | TARGET_LABELS:
                    problems.append(f"{where}: {metric} has no label {label}")
            elif label not in all_labels | TARGET_LABELS | {"le"}:
                problems.append(f"{where}: no metric has label {label}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ SQL


def test_sql_panels_use_only_existing_tables_and_columns() -> None:
    tables = table_columns()
    problems: list[str] = []
    count = 0
    for path in DASHBOARDS:
        for where, sql in dashboard_sql(load_dashboard(path)):
            count += 1
            problems += [f"{path.name}: {where}: {p}" for p in sql_problems(sql, tables)]
            if "usage_rollups" in sql:
                # Each event is in the minute, hour and day rollups: a sum over more than one
                # granularity counts it three times.
                assert re.search(r"\bgranularity\s*=", sql), f"{where}: no granularity filter"
    assert count, "no SQL panel found"
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ alert rules


REQUIRED_ALERTS = {
    "BackendDown",
    "HighErrorRatio",
    "UsageSpoolGrowing",
    "LedgerConsumerLag",
    "LedgerDeadLetters",
    "LimiterDegraded",
    "FailedLoginsSpike",
}


def test_alert_rules_are_complete() -> None:
    rules = load_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    assert set(names) >= REQUIRED_ALERTS, sorted(REQUIRED_ALERTS - set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert rule["expr"].strip()
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["labels"]["service"] == "ias", rule["alert"]
        for key in ("summary", "description", "runbook"):
            assert str(rule["annotations"].get(key, "")).strip(), f"{rule['alert']}: no {key}"


def test_alert_templates_use_only_labels_the_expression_keeps() -> None:
    for rule in load_rules():
        grouped = {
            label.strip()
            for match in GROUPING.finditer(rule["expr"])
            for label in match.group(2).split(",")
        }
        for text in rule["annotations"].values():
            for label in re.findall(r"\$labels\.(\w+)", text):
                assert label in grouped, f"{rule['alert']} uses $labels.{label}"


# ------------------------------------------------------------------------------ values


def yaml_files() -> list[Path]:
    return sorted(OBSERVABILITY.rglob("*.yaml"))


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: path.name)
def test_yaml_parses(path: Path) -> None:
    assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)


def test_grafana_values_provision_the_data_sources_the_dashboards_default_to() -> None:
    values = yaml.safe_load((VALUES / "grafana.yaml").read_text(encoding="utf-8"))
    sources = values["datasources"]["datasources.yaml"]["datasources"]
    by_type = {source["type"]: source for source in sources}
    assert set(by_type) >= {"prometheus", "loki", "tempo", PG_TYPE}
    assert "$IAS_GRAFANA_DB_PASSWORD" in by_type[PG_TYPE]["secureJsonData"]["password"]
    for path in DASHBOARDS:
        for variable in load_dashboard(path)["templating"]["list"]:
            if variable["type"] == "datasource":
                assert variable["current"]["value"] == by_type[variable["query"]]["uid"]
    provider = values["dashboardProviders"]["dashboardproviders.yaml"]["providers"][0]
    key = provider["options"]["path"].rsplit("/", 1)[1]
    assert provider["options"]["path"] == f"/var/lib/grafana/dashboards/{key}"
    assert key in values["dashboardsConfigMaps"]


def test_tempo_receives_otlp_on_the_standard_ports() -> None:
    values = yaml.safe_load((VALUES / "tempo.yaml").read_text(encoding="utf-8"))
    protocols = values["tempo"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")


def test_alloy_scrapes_by_annotation_and_parses_json_logs() -> None:
    values = yaml.safe_load((VALUES / "alloy.yaml").read_text(encoding="utf-8"))
    config = values["alloy"]["configMap"]["content"]
    assert config.count("{") == config.count("}")
    for needle in (
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
        "__meta_kubernetes_pod_annotation_prometheus_io_port",
        "vllm/vllm-openai",
        "prometheus.remote_write",
        "stage.json",
        "loki.write",
    ):
        assert needle in config, needle
    # Request ids are unbounded: structured metadata, never a label.
    labels_stage = re.search(r"stage\.labels\s*\{(.*?)\n\s*\}\n", config, flags=re.DOTALL)
    assert labels_stage
    assert "request_id" not in labels_stage.group(1)


def test_readme_covers_every_values_file() -> None:
    readme = (OBSERVABILITY / "README.md").read_text(encoding="utf-8")
    for path in VALUES.glob("*.yaml"):
        assert f"values/{path.name}" in readme, path.name


# ------------------------------------------------------------------------------ registries


@pytest.mark.parametrize("module", sorted(METRICS_MODULES))
def test_metrics_are_registered_as_listed(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    from prometheus_client import REGISTRY

    importlib.import_module(module)
    exported: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    for family in REGISTRY.collect():
        name = family.name + "_total" if family.type == "counter" else family.name
        collector = REGISTRY._names_to_collectors.get(name)
        labels = getattr(collector, "_labelnames", None)
        exported[name] = (family.type, tuple(labels) if labels is not None else None)
    for name, (kind, labels) in METRICS.items():
        if not name.startswith(METRICS_MODULES[module]):
            continue
        assert name in exported, f"{module} does not register {name}"
        assert exported[name][0] == kind, f"{name} is a {exported[name][0]}, not a {kind}"
        if exported[name][1] is not None:
            assert set(exported[name][1]) == set(labels), f"{name} labels {exported[name][1]}"
