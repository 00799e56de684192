"""deploy/terraform/linode parses, pins its provider, documents every variable and output,
and keeps the credentials it outputs sensitive. (No terraform binary is needed.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import DEPLOY

hcl2 = pytest.importorskip("hcl2", reason="needs an HCL parser (make check-deploy)")

MODULE = DEPLOY / "terraform" / "linode"


def norm(value: Any) -> Any:
    """One shape whichever HCL parser version: one-item lists unwrapped, no line markers,
    strings without quotes or a whole-value ${...} wrapper."""
    if isinstance(value, list):
        items = [norm(item) for item in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, str):
        value = value.strip('"')
        if value.startswith("${") and value.endswith("}"):
            value = value[2:-1]
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parse(name: str) -> dict[str, Any]:
    with (MODULE / name).open() as handle:
        document: dict[str, Any] = norm(hcl2.load(handle))
    return document


def blocks(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for block in as_list(document.get(kind, [])) for name, body in block.items()}


def unquote(value: Any) -> Any:
    return value


def test_every_file_parses() -> None:
    files = sorted(path.name for path in MODULE.glob("*.tf"))
    assert files == ["main.tf", "outputs.tf", "variables.tf", "versions.tf"]
    for name in files:
        parse(name)


def test_the_provider_is_pinned() -> None:
    terraform = parse("versions.tf")["terraform"]
    linode = terraform["required_providers"]["linode"]
    assert unquote(linode["source"]) == "linode/linode"
    assert re.fullmatch(r"~> \d+\.\d+", unquote(linode["version"]))
    assert unquote(terraform["required_version"]).startswith(">=")


def test_every_variable_is_documented_and_typed() -> None:
    variables = blocks(parse("variables.tf"), "variable")
    assert {"region", "k8s_version", "cpu_pool", "gpu_pool", "database_allow_list"} <= set(
        variables
    )
    for name, body in variables.items():
        assert len(unquote(body.get("description", ""))) > 20, name
        assert "type" in body, name
    validated = {name for name, body in variables.items() if "validation" in body}
    assert {"region", "k8s_version", "cpu_pool", "gpu_pool", "database_engine"} <= validated


def test_outputs_give_the_kubeconfig_and_database_url_sensitively() -> None:
    outputs = blocks(parse("outputs.tf"), "output")
    assert {"kubeconfig", "database_url"} <= set(outputs)
    for name, body in outputs.items():
        assert len(unquote(body.get("description", ""))) > 10, name
    for name in ("kubeconfig", "database_url", "database_ca_certificate"):
        assert outputs[name]["sensitive"] is True, name
    url = str(outputs["database_url"]["value"])
    assert url.startswith("postgresql://")
    assert "urlencode(" in url
    assert "ssl=require" in url


def test_the_cluster_has_cpu_and_gpu_pools_a_database_and_a_firewall() -> None:
    main = parse("main.tf")
    resources = {
        (kind, name): body
        for block in as_list(main["resource"])
        for kind, named in block.items()
        for name, body in named.items()
    }
    assert set(resources) >= {
        ("linode_lke_cluster", "this"),
        ("linode_database_postgresql_v2", "this"),
        ("linode_firewall", "nodes"),
    }
    cluster = resources[("linode_lke_cluster", "this")]
    assert cluster["pool"], "a CPU pool"
    taint = cluster["dynamic"]["pool"]["content"]["taint"]
    assert unquote(taint["key"]) == "nvidia.com/gpu"
    firewall = resources[("linode_firewall", "nodes")]
    assert unquote(firewall["inbound_policy"]) == "DROP"


def test_formatting_follows_terraform_fmt_basics() -> None:
    # `terraform fmt -check` runs in scripts/check_deploy.sh where terraform exists; these are
    # the rules it enforces that a reviewer can miss by eye.
    for path in MODULE.glob("*.tf"):
        text = Path(path).read_text()
        assert text.endswith("\n"), path.name
        assert not text.endswith("\n\n"), path.name
        for number, line in enumerate(text.splitlines(), 1):
            assert "\t" not in line, (path.name, number)
            assert line == line.rstrip(), (path.name, number)
            indent = len(line) - len(line.lstrip(" "))
            assert indent % 2 == 0, (path.name, number)
