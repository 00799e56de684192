"""Fixtures for the deployment tests: the repository's deploy/ tree and a Helm renderer.

`make check-deploy` runs these with the tools it installs (.venv-deploy, .tools/helm). Run
inside the app's environment, a test whose tool is missing is skipped, saying which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="needs PyYAML (make check-deploy)")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

Manifest = dict[str, Any]
Render = Callable[..., list[Manifest]]


def helm_binary() -> str | None:
    candidates = [os.environ.get("HELM"), str(ROOT / ".tools/helm/helm"), shutil.which("helm")]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


class RenderError(Exception):
    pass


@pytest.fixture(scope="session")
def helm() -> str:
    binary = helm_binary()
    if binary is None:
        pytest.skip("needs helm (make check-deploy installs it into .tools/helm)")
    return binary


@pytest.fixture(scope="session")
def render(helm: str) -> Render:
    """Render a chart: render("ias", "ci/default-values.yaml", set={"a.b": "c"})."""

    def _render(chart: str, *values: str, set: dict[str, str] | None = None) -> list[Manifest]:
        command = [helm, "template", chart, str(DEPLOY / "helm" / chart), "--namespace", chart]
        for name in values:
            command += ["-f", str(DEPLOY / "helm" / chart / name)]
        for key, value in (set or {}).items():
            command += ["--set", f"{key}={value}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RenderError(done.stderr.strip())
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return _render


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in ("Deployment", "StatefulSet", "Job")]
