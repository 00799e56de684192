"""`ias-admin usage …`: read the usage ledger, and check it against the engines behind it.

`show` and `export` (in `usage_report`) read an organization's usage report through the API as
the signed-in user. `reconcile` works on the database directly; it exits 0 when every
checked engine agrees with the ledger within the tolerance, 1 when one drifts or cannot be
checked (unreachable, no counters, no start time) or the database fails, and 2 on a usage error
(a bad `--since`, a filter that names nothing).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
import typer

from ias.analytics.reconcile import (
    BackendReport,
    Report,
    SinceError,
    Tokens,
    UnknownTarget,
    Verdict,
    parse_since,
    reconcile,
)
from ias.cli.output import one_line_errors, say
from ias.cli.startup import database_settings, open_database
from ias.errors import StartupError
from ias.kit.clock import utcnow
from ias.kit.crypto import Encryptor
from ias.secrets import resolve_secrets
from ias.settings import Mode, Settings

app = typer.Typer(
    help="""Show and export usage, and check the ledger against the engines.

\b
Example:
  ias-admin usage show acme --granularity day --group-by model
  ias-admin usage export acme --csv --start 30d --output acme.csv
  ias-admin usage reconcile --since 24h
""",
    no_args_is_help=True,
)

_COLUMNS = (
    "BACKEND",
    "MODEL",
    "FROM",
    "LEDGER PROMPT",
    "ENGINE PROMPT",
    "DRIFT PROMPT",
    "LEDGER COMPLETION",
    "ENGINE COMPLETION",
    "DRIFT COMPLETION",
    "VERDICT",
)


def _since(text: str) -> datetime:
    try:
        return parse_since(text, utcnow())
    except SinceError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("reconcile")
@one_line_errors
def reconcile_command(
    since: Annotated[
        datetime,
        typer.Option(
            parser=_since,
            metavar="T",
            help="Start of the comparison: RFC 3339 (2025-05-01T00:00:00Z) or an age (24h, 7d).",
        ),
    ],
    backend: Annotated[
        uuid.UUID | None, typer.Option(help="Check only this backend (even if disabled).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Check only backends of this model (public or served name).")
    ] = None,
    tolerance_tokens: Annotated[
        int, typer.Option(min=0, help="Drift (either way) still reported as ok, per counter.")
    ] = 0,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for each engine's /metrics.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare the ledger's tokens with each engine's own token counters and report any drift."""
    settings = database_settings()
    try:
        report = asyncio.run(_reconcile(settings, since, backend, model, tolerance_tokens, timeout))
    except UnknownTarget as exc:
        raise typer.BadParameter(
            str(exc), param_hint="--backend" if backend else "--model"
        ) from None
    if as_json:
        say(orjson.dumps(_report_dict(report), option=orjson.OPT_INDENT_2).decode())
    else:
        _print_table(report)
    if not report.ok:
        raise typer.Exit(code=1)


async def _reconcile(
    settings: Settings,
    since: datetime,
    backend: uuid.UUID | None,
    model: str | None,
    tolerance: int,
    timeout_seconds: float,
) -> Report:
    db = await open_database(settings)
    try:
        return await reconcile(
            db,
            since=since,
            decrypt=_backend_key_reader(settings),
            tolerance_tokens=tolerance,
            timeout_seconds=timeout_seconds,
            backend_id=backend,
            model=model,
        )
    finally:
        await db.dispose()


def _backend_key_reader(settings: Settings) -> Callable[[str], str]:
    """Decrypts stored backend API keys; the encryption key is looked up only if one is stored."""

    @functools.cache
    def encryptor() -> Encryptor:
        secret = settings.encryption_key
        if secret is None and settings.mode is Mode.EMBEDDED:
            secret = resolve_secrets(settings).encryption_key
        if secret is None:
            raise StartupError(
                "a backend has a stored API key; reading it needs IAS_ENCRYPTION_KEY"
            )
        return Encryptor(secret.get_secret_value())

    return lambda token: encryptor().decrypt(token)


def _tokens(tokens: Tokens | None) -> dict[str, int] | None:
    if tokens is None:
        return None
    return {"prompt_tokens": tokens.prompt, "completion_tokens": tokens.completion}


def _backend_dict(backend: BackendReport) -> dict[str, Any]:
    window, difference = backend.window, backend.drift
    return {
        "backend_ids": [str(backend_id) for backend_id in backend.target.backend_ids],
        "models": list(backend.target.models),
        "served_model": backend.target.served_model,
        "metrics_url": backend.target.metrics_url,
        "verdict": backend.verdict.value,
        "reason": backend.reason,
        "window": None
        if window is None
        else {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "since_was_after_engine_start": window.since_was_after_start,
        },
        "ledger": _tokens(backend.ledger),
        "engine": _tokens(backend.engine),
        "drift": None
        if difference is None
        else {
            "prompt_tokens": difference.prompt,
            "completion_tokens": difference.completion,
            "prompt_percent": difference.prompt_percent,
            "completion_percent": difference.completion_percent,
        },
    }


def _report_dict(report: Report) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(),
        "tolerance_tokens": report.tolerance_tokens,
        "ok": report.ok,
        "backends": [_backend_dict(backend) for backend in report.backends],
    }


def _counts(tokens: Tokens | None) -> tuple[str, str]:
    if tokens is None:
        return "-", "-"
    return str(tokens.prompt), str(tokens.completion)


def _signed(difference: int, share: float | None) -> str:
    shown = "n/a" if share is None else f"{share:+.2f}%"
    return f"{difference:+d} ({shown})"


def _row(backend: BackendReport) -> tuple[str, ...]:
    ledger_prompt, ledger_completion = _counts(backend.ledger)
    engine_prompt, engine_completion = _counts(backend.engine)
    difference = backend.drift
    drift_prompt = drift_completion = "-"
    if difference is not None:
        drift_prompt = _signed(difference.prompt, difference.prompt_percent)
        drift_completion = _signed(difference.completion, difference.completion_percent)
    window = backend.window
    return (
        _ids(backend),
        ",".join(backend.target.models),
        "-" if window is None else _moment(window.start),
        ledger_prompt,
        engine_prompt,
        drift_prompt,
        ledger_completion,
        engine_completion,
        drift_completion,
        backend.verdict.value,
    )


def _ids(backend: BackendReport) -> str:
    return ",".join(str(backend_id) for backend_id in backend.target.backend_ids)


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_table(report: Report) -> None:
    since = _moment(report.since)
    if not report.backends:
        say(f"no enabled backends to check (since {since})")
        return
    rows = [_COLUMNS, *(_row(backend) for backend in report.backends)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    for row in rows:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    notes = [backend for backend in report.backends if backend.reason]
    if notes:
        say("")
    for backend in notes:
        say(f"{_ids(backend)}: {backend.reason}")
    say("")
    checked = len(report.backends)
    bad = sum(1 for backend in report.backends if backend.verdict is not Verdict.OK)
    verdict = "all ok" if bad == 0 else f"{bad} of {checked} not ok"
    say(
        f"since {since}, tolerance {report.tolerance_tokens} tokens: {verdict} "
        "(drift = engine - ledger; a small positive drift can be requests still in flight)"
    )
