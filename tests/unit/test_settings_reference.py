"""docs/operations.md's configuration reference is what `ias.settings` describes now."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from ias.settings import SECRET_NAMES
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "`.venv/bin/python scripts/settings_reference.py --write`"


def _reference_module() -> ModuleType:
    return load_script("settings_reference")


def test_operations_md_matches_the_settings_tree() -> None:
    reference = _reference_module()
    committed = reference.current_block(reference.DOC.read_text(encoding="utf-8"))
    assert committed == reference.render(), (
        "docs/operations.md's configuration reference is out of date with src/ias/settings.py: "
        f"run {REGENERATE}"
    )


def test_every_variable_is_listed_once() -> None:
    reference = _reference_module()
    text = reference.render()
    for variable in ("IAS_MODE", "IAS_ROUTER__MAX_BODY_BYTES", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        assert text.count(f"| `{variable}` |") == 1


def test_secrets_never_show_a_value() -> None:
    reference = _reference_module()
    rows = {
        line.split(" | ")[0].strip("|` "): line
        for line in reference.render().splitlines()
        if line.startswith("| `")
    }
    for name in SECRET_NAMES:
        assert "(secret, no default)" in rows[f"IAS_{name.upper()}"]


def test_check_fails_with_a_diff_and_write_repairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = _reference_module()
    doc = tmp_path / "operations.md"
    doc.write_text(f"# Operations\n\n{reference.START}\nold\n{reference.END}\n\nAfter.\n")
    monkeypatch.setattr(reference, "DOC", doc)

    assert reference.main(["--check"]) == 1
    out, err = capsys.readouterr()
    assert "-old" in out
    assert "+| `IAS_MODE` |" in out
    assert "settings_reference.py --write" in err

    assert reference.main(["--write"]) == 0
    assert reference.main(["--check"]) == 0
    text = doc.read_text()
    assert text.startswith("# Operations\n\n")
    assert text.endswith(f"{reference.END}\n\nAfter.\n")
