"""Render the configuration reference in docs/operations.md from `ias.settings.Settings`.

Every field of the settings tree becomes a row: its environment variable (nested sections
joined with `__`, as `env_nested_delimiter` says), type, default, constraints (from the Field
metadata) and description (the Field's `description`). Secrets never show a value. The table
goes between two marker comments in docs/operations.md; nothing else in the file is touched.

    python scripts/settings_reference.py            print the reference
    python scripts/settings_reference.py --write    update docs/operations.md
    python scripts/settings_reference.py --check    exit 1 and print a diff when it is stale
"""

from __future__ import annotations

import argparse
import difflib
import enum
import inspect
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from ias.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations.md"
START = "<!-- settings-reference:start -->"
END = "<!-- settings-reference:end -->"
COMMAND = ".venv/bin/python scripts/settings_reference.py --write"

_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
_PLURALS = {bool: "booleans", int: "integers", float: "numbers", str: "strings", Path: "paths"}
_BINARY_UNITS = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_DURATIONS = ((86_400, "days", "day"), (3600, "h", "h"), (60, "min", "min"))


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type without `| None` and `Annotated[...]`, and the metadata `Annotated` carried.

    `X | None` is shown as `X`: an unset value shows as the default `unset`.
    """
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            annotation = rest[0]
    metadata: list[Any] = []
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata += item.metadata if isinstance(item, FieldInfo) else [item]
    return annotation, metadata


def _without_none(annotation: Any) -> Any:
    return _unwrap(annotation)[0]


def _is_section(annotation: Any) -> bool:
    annotation = _without_none(annotation)
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_secret(annotation: Any) -> bool:
    return _without_none(annotation) is SecretStr


def type_name(annotation: Any) -> str:
    annotation = _without_none(annotation)
    if annotation is SecretStr:
        return "secret string"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return f"JSON list of {_PLURALS.get(item, str(item))}"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    return str(annotation)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _in_units(name: str, value: float) -> str:
    """A human reading of byte sizes and durations, e.g. 4194304 → "4 MiB"; "" when none fits."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return ""
    if name.endswith("_bytes"):
        for size, unit in _BINARY_UNITS:
            if value >= size and value % size == 0:
                return f"{_number(value / size)} {unit}"
    if name.endswith("_seconds"):
        for size, plural, singular in _DURATIONS:
            if value >= size and value % size == 0:
                count = value // size
                return f"{_number(count)} {singular if count == 1 else plural}"
    return ""


def _with_units(name: str, value: float) -> str:
    text = _number(value)
    reading = _in_units(name, value)
    return f"{text} ({reading})" if reading else text


def default_text(name: str, field: FieldInfo) -> str:
    if _is_secret(field.annotation):
        return "(secret, no default)"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int | float):
        reading = _in_units(name, value)
        return f"`{_number(value)}`" + (f" ({reading})" if reading else "")
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`" if str(value) else '`""`'


def constraints_text(name: str, field: FieldInfo) -> str:
    parts = []
    for item in [*field.metadata, *_unwrap(field.annotation)[1]]:
        if isinstance(item, annotated_types.Gt):
            parts.append(f"> {_with_units(name, item.gt)}")
        elif isinstance(item, annotated_types.Ge):
            parts.append(f"≥ {_with_units(name, item.ge)}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"< {_with_units(name, item.lt)}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"≤ {_with_units(name, item.le)}")
        elif getattr(item, "pattern", None):
            parts.append(f"matches `{item.pattern}`")
    return ", ".join(parts)


def env_name(path: tuple[str, ...], field: FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias.upper()
    return "IAS_" + "__".join(part.upper() for part in path)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    lines = [
        "| variable | type | default | constraints | description |",
        "|---|---|---|---|---|",
    ]
    for variable, kind, default, constraints, description in rows:
        cells = (f"`{variable}`", kind, default, constraints, description)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def _rows(model: type[BaseModel], prefix: tuple[str, ...]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        if _is_section(field.annotation):
            continue
        if field.description is None:
            raise ValueError(f"{model.__name__}.{name} has no description")
        rows.append(
            (
                env_name((*prefix, name), field),
                type_name(field.annotation),
                default_text(name, field),
                constraints_text(name, field),
                field.description,
            )
        )
    return rows


def _docstring(model: type[BaseModel]) -> str:
    text = inspect.cleandoc(model.__doc__ or "")
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    return "\n\n".join(paragraphs)


def render() -> str:
    """The reference, as it belongs between the two markers (markers excluded)."""
    lines = [
        "<!-- Generated from src/ias/settings.py by scripts/settings_reference.py; "
        "do not edit by hand. -->",
        "",
        "### General",
        "",
        *_table(_rows(Settings, ())),
    ]
    for name, field in Settings.model_fields.items():
        if not _is_section(field.annotation):
            continue
        section = _without_none(field.annotation)
        lines += ["", f"### `IAS_{name.upper()}__*`", ""]
        about = _docstring(section)
        if about:
            lines += [about, ""]
        lines += _table(_rows(section, (name,)))
    return "\n".join(lines) + "\n"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _markers(document: str) -> tuple[int, int]:
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{_shown(DOC)} has no {START} ... {END} block")
    return start + len(START), end


def replace_block(document: str, block: str) -> str:
    """`document` with everything between the markers replaced by `block`."""
    start, end = _markers(document)
    return f"{document[:start]}\n{block}{document[end:]}"


def current_block(document: str) -> str:
    """What `document` holds between the markers, as `render` would return it."""
    start, end = _markers(document)
    return document[start:end].removeprefix("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"update {_shown(DOC)}")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 and print a diff when the file is stale"
    )
    args = parser.parse_args(argv)
    block = render()
    if not (args.write or args.check):
        sys.stdout.write(block)
        return 0
    document = DOC.read_text(encoding="utf-8")
    try:
        wanted = replace_block(document, block)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        if wanted != document:
            DOC.write_text(wanted, encoding="utf-8")
        return 0
    if wanted == document:
        return 0
    name = _shown(DOC)
    sys.stdout.writelines(
        difflib.unified_diff(
            document.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            fromfile=f"{name} (committed)",
            tofile=f"{name} (from src/ias/settings.py)",
        )
    )
    print(f"{name} is out of date: run `{COMMAND}`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
