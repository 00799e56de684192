"""scripts/check_workflows.py, the workflow check of `make check`: the repository's own files
pass, and each rule catches what it is there for."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    return load_script("check_workflows")


GOOD = f"""\
name: good
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@{SHA} # v7.0.1
      - run: make check
  gate:
    if: always()
    needs: [build]
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - run: "true"
"""


def _problems(checker: ModuleType, tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return list(checker.check(path, tmp_path))


def test_the_repository_workflows_pass(checker: ModuleType) -> None:
    paths = checker.files()
    names = {path.relative_to(ROOT).as_posix() for path in paths}
    assert {".github/workflows/ci.yml", ".github/workflows/release.yml"} <= names
    assert ".github/actions/setup/action.yml" in names
    for path in paths:
        assert checker.check(path) == [], path


def test_a_good_workflow_passes(checker: ModuleType, tmp_path: Path) -> None:
    assert _problems(checker, tmp_path, GOOD) == []


def test_on_stays_a_key(checker: ModuleType, tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `on` as true; GitHub does not.
    path = tmp_path / "w.yml"
    path.write_text(GOOD)
    assert "on" in checker.load(path)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ((f"actions/checkout@{SHA} # v7.0.1", "actions/checkout@v7"), "pin actions/checkout@v7"),
        ((f"@{SHA} # v7.0.1", f"@{SHA}"), "say which version"),
        (("permissions:\n  contents: read\n", ""), "set `permissions` at the top"),
        (("    timeout-minutes: 10\n", ""), "jobs/build: set timeout-minutes"),
        (("needs: [build]", "needs: [build, lint]"), "needs 'lint', which is not a job here"),
        (("    if: always()\n", ""), "must run `if: always()`"),
        (("runs-on: ubuntu-24.04\n    timeout-minutes: 10", "timeout-minutes: 10"), "jobs/build"),
        (("timeout-minutes: 10", "timeout-minutes: soon"), "jobs/build"),
    ],
)
def test_each_rule_catches_its_mistake(
    checker: ModuleType, tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    old, new = change
    assert old in GOOD
    problems = _problems(checker, tmp_path, GOOD.replace(old, new, 1))
    assert any(says in problem for problem in problems), problems


def test_the_gate_needs_every_other_job(checker: ModuleType, tmp_path: Path) -> None:
    text = GOOD.replace(
        "  gate:",
        "  lint:\n    runs-on: ubuntu-24.04\n    timeout-minutes: 5\n    steps:\n"
        "      - run: make lint\n  gate:",
    )
    problems = _problems(checker, tmp_path, text)
    assert problems == ["jobs/gate: must need every other job; missing lint"]


def test_local_actions_and_called_workflows_must_exist(checker: ModuleType, tmp_path: Path) -> None:
    text = GOOD.replace("      - run: make check\n", "      - uses: ./.github/actions/nope\n")
    text += "  call:\n    uses: ./.github/workflows/other.yml\n"
    text = text.replace("needs: [build]", "needs: [build, call]")
    problems = _problems(checker, tmp_path, text)
    assert "./.github/actions/nope: no action.yml there" in problems
    assert "./.github/workflows/other.yml: no such workflow" in problems

    other = tmp_path / ".github" / "workflows" / "other.yml"
    other.write_text(GOOD)  # on: push only
    problems = _problems(checker, tmp_path, text)
    assert "./.github/workflows/other.yml: that workflow has no `on: workflow_call`" in problems
