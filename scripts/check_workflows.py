"""Check .github/ offline, as part of `make check`: every workflow and local action against
SchemaStore's JSON schema for it, then the rules a schema cannot express.

The schemas are pinned in .github/schemas/ (Apache-2.0, SchemaStore's licence beside them):
github-workflow.json and github-action.json, as vendored by check-jsonschema 0.39.0 (PyPI).
To update them, take the same two files from a newer check-jsonschema wheel
(check_jsonschema/builtin_schemas/vendor/github-workflows.json and github-actions.json).

The rules:
- a third-party action is pinned to a full commit SHA, with its version in a comment
  (`uses: owner/repo@<40 hex> # v1.2.3`), so a moved tag cannot change what runs;
- every workflow sets `permissions` at the top, and every job that runs steps a
  `timeout-minutes` (GitHub's default is six hours);
- `needs` names jobs that exist; a local action or reusable workflow exists (and the workflow
  can be called);
- a job named `gate` runs always and needs every other job: it is the one required check.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
SCHEMAS = GITHUB / "schemas"

PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+)*\b")


class Loader(yaml.SafeLoader):
    """YAML as GitHub reads it: only true/false are booleans (so `on:` stays a key)."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506 - safe loader


def schema_errors(document: Any, schema: str) -> Iterator[str]:
    validator = jsonschema_rs.validator_for(json.loads((SCHEMAS / schema).read_text()))
    for error in validator.iter_errors(document):
        where = "/".join(str(part) for part in error.instance_path) or "(top)"
        message = error.message  # it quotes the whole instance, which may be a whole job
        if len(message) > 240:
            message = f"{message[:100]} ... {message[-120:]}"
        yield f"{where}: {message}"


def pinning_errors(text: str) -> Iterator[str]:
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if match is None:
            continue
        ref, comment = match["ref"].strip("'\""), (match["comment"] or "").strip()
        if ref.startswith(("./", "docker://")):
            continue
        if not PINNED.match(ref):
            yield f"line {number}: pin {ref} to a full commit SHA (`@<40 hex> # vX.Y.Z`)"
        elif not VERSION_COMMENT.match(comment):
            yield f"line {number}: say which version {ref} is in a comment (`# vX.Y.Z`)"


def local_uses(document: Any) -> Iterator[str]:
    """Every `uses:` of a job or a step (workflow) or of a composite action's step."""
    jobs = document.get("jobs") or {}
    for job in jobs.values():
        if isinstance(job, dict):
            if "uses" in job:
                yield str(job["uses"])
            yield from (str(step["uses"]) for step in job.get("steps") or [] if "uses" in step)
    runs = document.get("runs") or {}
    yield from (str(step["uses"]) for step in runs.get("steps") or [] if "uses" in step)


def reference_errors(document: Any, root: Path = ROOT) -> Iterator[str]:
    for uses in local_uses(document):
        if not uses.startswith("./"):
            continue
        target = root / uses
        if uses.startswith("./.github/workflows/"):
            if not target.is_file():
                yield f"{uses}: no such workflow"
            elif "workflow_call" not in (load(target).get("on") or {}):
                yield f"{uses}: that workflow has no `on: workflow_call`"
        elif not (target / "action.yml").is_file() and not (target / "action.yaml").is_file():
            yield f"{uses}: no action.yml there"


def workflow_rule_errors(document: Any) -> Iterator[str]:
    if "permissions" not in document:
        yield "set `permissions` at the top (least privilege, e.g. `contents: read`)"
    jobs: dict[str, Any] = document.get("jobs") or {}
    for name, job in jobs.items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        for need in needs:
            if need not in jobs:
                yield f"jobs/{name}: needs {need!r}, which is not a job here"
        # A job that calls a reusable workflow takes its timeouts from that workflow's jobs.
        if "uses" not in job and "timeout-minutes" not in job:
            yield f"jobs/{name}: set timeout-minutes"
    gate = jobs.get("gate")
    if gate is not None:
        needs = gate.get("needs", [])
        missing = sorted(set(jobs) - {"gate"} - set([needs] if isinstance(needs, str) else needs))
        if missing:
            yield f"jobs/gate: must need every other job; missing {', '.join(missing)}"
        if "always()" not in str(gate.get("if", "")):
            yield "jobs/gate: must run `if: always()`, or a failed job skips it and it passes"


def check(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    try:
        document = load(path)
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    if not isinstance(document, dict):
        return ["not a YAML mapping"]
    is_workflow = path.parent.name == "workflows"
    problems = list(
        schema_errors(document, "github-workflow.json" if is_workflow else "github-action.json")
    )
    problems += pinning_errors(text)
    problems += reference_errors(document, root)
    if is_workflow:
        problems += workflow_rule_errors(document)
    return problems


def files(github: Path = GITHUB) -> list[Path]:
    workflows = [*github.glob("workflows/*.yml"), *github.glob("workflows/*.yaml")]
    actions = [*github.glob("actions/*/action.yml"), *github.glob("actions/*/action.yaml")]
    return sorted(workflows) + sorted(actions)


def main() -> int:
    paths = files()
    failed = 0
    for path in paths:
        for problem in check(path):
            print(f"{path.relative_to(ROOT)}: {problem}", file=sys.stderr)
            failed += 1
    if failed:
        return 1
    print(f"workflows: {len(paths)} files valid (schemas in .github/schemas, pinned actions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
