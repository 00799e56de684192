"""The portal's typed client matches the control plane: `make web-client` regenerates it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def _export_module() -> ModuleType:
    return load_script("export_openapi")


def test_openapi_json_is_what_the_control_plane_describes() -> None:
    export = _export_module()
    current = export.render(export.control_openapi())
    committed = (WEB / "openapi.json").read_text(encoding="utf-8")
    assert committed == current, "web/openapi.json is out of date: run `make web-client`"


def test_the_export_is_deterministic() -> None:
    export = _export_module()
    assert export.render(export.control_openapi()) == export.render(export.control_openapi())


@pytest.mark.skipif(
    not GENERATOR.exists() or shutil.which("node") is None,
    reason="web/node_modules is not installed (`make web-test` checks the TypeScript side)",
)
def test_schema_d_ts_is_what_openapi_typescript_makes_of_it() -> None:
    result = subprocess.run(
        ["node", str(WEB / "scripts" / "check-client.mjs")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
