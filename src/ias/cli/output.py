"""How every command reports: results on stdout, a failure as one `error: …` line on stderr.

Commands wrap themselves in `one_line_errors`, so a bad configuration, an unreachable database
or a refused password ends the command with exit code 1 and a sentence a person can act on,
never a traceback. Usage errors (a bad option value) stay Typer's, with exit code 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from ias.cli.startup import database_error_reason
from ias.errors import IASError, StartupError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str) -> NoReturn:
    one_line = " ".join(message.split())
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(code=1)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the failures a user can cause into one `error:` line and exit code 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except StartupError as exc:
            fail(str(exc))
        except IASError as exc:
            fail(exc.message)
        except SQLAlchemyError as exc:
            # Never str(exc): it carries the SQL statement and its parameters.
            fail(f"database error: {database_error_reason(exc)}")

    return run


def say(message: str) -> None:
    typer.echo(message)
    sys.stdout.flush()


def show_initial_admin(email: str, password: str) -> None:
    """The one and only time the generated password is shown."""
    body = Text.assemble(
        ("A super admin was created. Save this password now: it is not shown again.\n\n", ""),
        ("  email     ", "bold"),
        (email + "\n", ""),
        ("  password  ", "bold"),
        (password, "bold green"),
    )
    console = Console(highlight=False, soft_wrap=False)
    console.print(Panel(body, title="IAS super admin", expand=False))
    sys.stdout.flush()
