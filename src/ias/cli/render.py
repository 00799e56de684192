"""What `ias-admin`'s API commands share: their options, tables or JSON, confirmations, and
one-line failures.

Every command prints a table for people by default and the API's JSON with `--json`; exits 0
when done, 1 when refused or failed (one `error:` line on stderr), 2 on a usage error (Typer's).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from ias.cli.api_client import ApiClient, ApiError
from ias.cli.output import fail

P = ParamSpec("P")
R = TypeVar("R")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="IAS_URL",
        help="The control plane, e.g. https://ias.example.com (default: the one you logged in to).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OrgArgument = Annotated[
    str, typer.Argument(metavar="ORG", help="The organization: its id, slug or name.")
]
ModelArgument = Annotated[
    str, typer.Argument(metavar="MODEL", help="The model: its id or public name.")
]

PIPED_WIDTH = 10_000
Column = tuple[str, str | Callable[[dict[str, Any]], object]]


def api_command(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an API failure (unreachable, refused, logged out) into one line and exit code 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ApiError as exc:
            fail(str(exc))

    return run


def client(url: str | None) -> ApiClient:
    return ApiClient.signed_in(url)


def emit(data: Any, *, as_json: bool, columns: Sequence[Column] = (), title: str = "") -> None:
    """`data` (a dict or a list of dicts) as JSON, or as a table of `columns`."""
    if as_json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    table = Table(title=title or None, show_edge=False, header_style="bold")
    for header, _ in columns:
        table.add_column(header)
    for row in rows:
        table.add_row(*(_cell(row, source) for _, source in columns))
    # Piped into another program, a row stays on one line however long; a terminal wraps.
    width = None if sys.stdout.isatty() else PIPED_WIDTH
    Console(highlight=False, soft_wrap=True, width=width).print(table)
    if not rows:
        typer.echo("(none)")


def _cell(row: dict[str, Any], source: str | Callable[[dict[str, Any]], object]) -> str:
    value = source(row) if callable(source) else row.get(source)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "-"
    return str(value)


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive command; `--yes` answers for scripts. Declining exits 1."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{question} Refusing without a terminal to ask on; pass --yes to confirm.")
    if not typer.confirm(question, default=False):
        fail("cancelled; nothing was changed")


def done(message: str, data: Any = None, *, as_json: bool = False) -> None:
    """A command's confirmation line, or with `--json` the object it acted on."""
    if as_json:
        emit(data if data is not None else {"ok": True}, as_json=True)
    else:
        typer.echo(message)
