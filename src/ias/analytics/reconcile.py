"""Usage reconciliation: the ledger's token counts against the engines' own counters.

An engine (vLLM, or the built-in look-alike) counts every prompt and generated token it
processed in two Prometheus counters per served model, `vllm:prompt_tokens_total` and
`vllm:generation_tokens_total`. The ledger should hold the same tokens, one row per request,
under the backend that served it. This module compares the two for each engine series.

The window rule: counters cover an engine's whole life and cannot be cut at an arbitrary time,
so the comparison always runs from the engine's start (`process_start_time_seconds`, else the
counters' own `_created` time) to the moment it was scraped. When the operator's `since` is
later than that start, the report says it compared from the engine start instead; when the
engine gives no start time at all, nothing can be compared and the verdict says so.

Drift is `engine - ledger`: positive when the engine counted tokens the ledger has not (yet)
billed, negative when the ledger billed tokens the engine never counted.
"""

from __future__ import annotations

import asyncio
import enum
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from ias.kit.clock import utcnow
from ias.kit.crypto import DecryptionError
from ias.kit.db import Database
from ias.models import Backend, ModelEntry, UsageEvent

PROMPT_COUNTER = "vllm:prompt_tokens_total"
GENERATION_COUNTER = "vllm:generation_tokens_total"
CREATED_SAMPLES = ("vllm:prompt_tokens_created", "vllm:generation_tokens_created")
START_TIME = "process_start_time_seconds"
MODEL_LABEL = "model_name"

_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Verdict(enum.StrEnum):
    OK = "ok"
    DRIFT = "drift"
    UNREACHABLE = "unreachable"
    NO_COUNTERS = "no counters"
    NO_START_TIME = "no start time"


class SinceError(ValueError):
    """A `--since` value that is neither an RFC 3339 timestamp nor a relative age."""


class MetricsFormatError(ValueError):
    """A `/metrics` answer that is not Prometheus text."""


class UnknownTarget(LookupError):
    """A backend or model filter that names nothing in the registry."""


def parse_since(text: str, now: datetime) -> datetime:
    """`2025-05-01T00:00:00Z` (RFC 3339, with an offset) or an age such as `90m`, `24h`, `7d`."""
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise SinceError(
            f"{text!r} is neither an RFC 3339 timestamp with an offset "
            "(e.g. 2025-05-01T00:00:00Z) nor an age such as 90m, 24h or 7d"
        )
    if parsed > now:
        raise SinceError(f"{text!r} is in the future")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Tokens:
    prompt: int
    completion: int


@dataclass(frozen=True, slots=True)
class EngineCounters:
    """What one scrape of an engine's `/metrics` says, per served model name."""

    tokens: dict[str, Tokens]
    process_started_at: datetime | None = None
    counters_created_at: dict[str, datetime] = field(default_factory=dict)

    def started_at(self, model_name: str) -> datetime | None:
        """Since when the model's counters have been counting, if the engine says."""
        return self.process_started_at or self.counters_created_at.get(model_name)


def _timestamp(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):  # NaN, or beyond what a datetime holds
        return None


def parse_metrics(text: str) -> EngineCounters:
    """The token counters and start time in Prometheus text; `MetricsFormatError` if it is not.

    Samples of one model name are summed: vLLM may split a model's series by other labels
    (an `engine` index per data-parallel rank).
    """
    totals: dict[str, dict[str, float]] = {PROMPT_COUNTER: {}, GENERATION_COUNTER: {}}
    created: dict[str, datetime] = {}
    started: datetime | None = None
    try:
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    except ValueError as exc:
        raise MetricsFormatError(f"not Prometheus text: {exc}") from None
    for sample in samples:
        model = sample.labels.get(MODEL_LABEL)
        if sample.name in totals and model is not None:
            series = totals[sample.name]
            series[model] = series.get(model, 0.0) + sample.value
        elif sample.name in CREATED_SAMPLES and model is not None:
            moment = _timestamp(sample.value)
            if moment is not None:
                created[model] = min(moment, created.get(model, moment))
        elif sample.name == START_TIME:
            started = _timestamp(sample.value)
    prompt, generation = totals[PROMPT_COUNTER], totals[GENERATION_COUNTER]
    tokens = {
        model: Tokens(round(prompt[model]), round(generation[model]))
        for model in prompt.keys() & generation.keys()
    }
    return EngineCounters(tokens, started, created)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    since_was_after_start: bool


def comparison_window(since: datetime, engine_start: datetime, scraped_at: datetime) -> Window:
    """Always from the engine start: a counter cannot be cut later, and holds nothing earlier."""
    return Window(min(engine_start, scraped_at), scraped_at, since > engine_start)


@dataclass(frozen=True, slots=True)
class Drift:
    prompt: int
    completion: int
    prompt_percent: float | None
    completion_percent: float | None

    def within(self, tolerance: int) -> bool:
        return abs(self.prompt) <= tolerance and abs(self.completion) <= tolerance


def percent(difference: int, reference: int) -> float | None:
    """`difference` as a share of `reference`; None when that share is unbounded."""
    if reference == 0:
        return 0.0 if difference == 0 else None
    return round(100.0 * difference / reference, 2)


def drift(ledger: Tokens, engine: Tokens) -> Drift:
    prompt = engine.prompt - ledger.prompt
    completion = engine.completion - ledger.completion
    return Drift(
        prompt, completion, percent(prompt, engine.prompt), percent(completion, engine.completion)
    )


def metrics_url(backend_url: str) -> str:
    """vLLM serves /metrics beside /v1; backends are registered with or without the `/v1`."""
    return backend_url.rstrip("/").removesuffix("/v1") + "/metrics"


@dataclass(frozen=True, slots=True)
class Target:
    """One engine series (a metrics URL and a served model name) and every backend row that
    routes to it: their ledger rows together are what that one counter counted."""

    metrics_url: str
    served_model: str
    models: tuple[str, ...]
    backend_ids: tuple[uuid.UUID, ...]
    api_key_encrypted: str | None
    enabled: bool


def group_targets(rows: Iterable[tuple[Backend, ModelEntry]]) -> list[Target]:
    groups: dict[tuple[str, str], list[tuple[Backend, ModelEntry]]] = {}
    for backend, model in rows:
        groups.setdefault((metrics_url(backend.url), model.upstream_model), []).append(
            (backend, model)
        )
    return [
        Target(
            metrics_url=url,
            served_model=served,
            models=tuple(sorted({model.name for _, model in members})),
            backend_ids=tuple(sorted(backend.id for backend, _ in members)),
            api_key_encrypted=next(
                (b.api_key_encrypted for b, _ in members if b.api_key_encrypted), None
            ),
            enabled=any(backend.enabled and model.enabled for backend, model in members),
        )
        for (url, served), members in sorted(groups.items())
    ]


def select_targets(
    targets: list[Target], backend_id: uuid.UUID | None, model: str | None
) -> list[Target]:
    """Enabled series, or the ones the filters name (a named backend even when disabled)."""
    chosen = targets
    if backend_id is not None:
        chosen = [target for target in chosen if backend_id in target.backend_ids]
        if not chosen:
            raise UnknownTarget(f"no backend has the id {backend_id}")
    else:
        chosen = [target for target in chosen if target.enabled]
    if model is not None:
        chosen = [t for t in chosen if model in t.models or model == t.served_model]
        if not chosen:
            which = "backend" if backend_id is not None else "enabled backend"
            raise UnknownTarget(f"no {which} serves a model named {model!r}")
    return chosen


@dataclass(frozen=True, slots=True)
class Scrape:
    """One engine's answer, or why there was none, and when it was read."""

    at: datetime
    counters: EngineCounters | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class BackendReport:
    target: Target
    verdict: Verdict
    reason: str | None = None
    window: Window | None = None
    ledger: Tokens | None = None
    engine: Tokens | None = None
    drift: Drift | None = None


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    tolerance_tokens: int
    backends: list[BackendReport]

    @property
    def ok(self) -> bool:
        return all(backend.verdict is Verdict.OK for backend in self.backends)


def assess(
    target: Target, since: datetime, scrape: Scrape
) -> tuple[Window, Tokens] | BackendReport:
    """The window to sum the ledger over and the engine's counts, or the verdict when there is
    nothing to compare."""
    if scrape.counters is None:
        return BackendReport(target, Verdict.UNREACHABLE, scrape.problem)
    engine = scrape.counters.tokens.get(target.served_model)
    if engine is None:
        reason = (
            f"/metrics has no {PROMPT_COUNTER} and {GENERATION_COUNTER} "
            f"for {MODEL_LABEL}={target.served_model!r}"
        )
        return BackendReport(target, Verdict.NO_COUNTERS, reason)
    started = scrape.counters.started_at(target.served_model)
    if started is None:
        reason = (
            f"the engine reports no {START_TIME}, so the time its counters cover is unknown "
            "and no ledger window can match them"
        )
        return BackendReport(target, Verdict.NO_START_TIME, reason)
    return comparison_window(since, started, scrape.at), engine


def judge(
    target: Target, window: Window, ledger: Tokens, engine: Tokens, tolerance: int
) -> BackendReport:
    difference = drift(ledger, engine)
    verdict = Verdict.OK if difference.within(tolerance) else Verdict.DRIFT
    reason = None
    if window.since_was_after_start:
        reason = (
            f"the engine started at {window.start.isoformat()}, before --since, and its "
            "counters cannot be cut at --since: compared from the engine start instead"
        )
    return BackendReport(target, verdict, reason, window, ledger, engine, difference)


async def scrape(
    session: aiohttp.ClientSession, url: str, api_key: str | None, timeout_seconds: float
) -> Scrape:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_seconds)
        ) as response:
            body = await response.text()
            status = response.status
    except TimeoutError:
        return Scrape(utcnow(), problem=f"{url} did not answer within {timeout_seconds:g} s")
    except aiohttp.ClientError as exc:
        return Scrape(utcnow(), problem=f"{url} is not reachable: {exc}")
    at = utcnow()
    if status != 200:
        return Scrape(at, problem=f"{url} answered HTTP {status}")
    try:
        return Scrape(at, parse_metrics(body))
    except MetricsFormatError:
        return Scrape(at, problem=f"{url} did not answer with Prometheus metrics")


async def load_targets(db: Database) -> list[Target]:
    async with db.session() as session:
        rows = (await session.execute(select(Backend, ModelEntry).join(ModelEntry))).tuples()
        return group_targets(rows.all())


async def ledger_tokens(db: Database, backend_ids: Iterable[uuid.UUID], window: Window) -> Tokens:
    query = select(
        func.coalesce(func.sum(UsageEvent.prompt_tokens), 0),
        func.coalesce(func.sum(UsageEvent.completion_tokens), 0),
    ).where(
        UsageEvent.backend_id.in_(list(backend_ids)),
        UsageEvent.ts >= window.start,
        UsageEvent.ts <= window.end,
    )
    async with db.session() as session:
        prompt, completion = (await session.execute(query)).one()
    return Tokens(int(prompt), int(completion))


async def _scrape_target(
    session: aiohttp.ClientSession,
    target: Target,
    decrypt: Callable[[str], str],
    timeout_seconds: float,
) -> Scrape:
    api_key = None
    if target.api_key_encrypted is not None:
        try:
            api_key = decrypt(target.api_key_encrypted)
        except DecryptionError:
            problem = "its stored API key cannot be decrypted (was the encryption key changed?)"
            return Scrape(utcnow(), problem=problem)
    return await scrape(session, target.metrics_url, api_key, timeout_seconds)


async def reconcile(
    db: Database,
    *,
    since: datetime,
    decrypt: Callable[[str], str],
    tolerance_tokens: int = 0,
    timeout_seconds: float = 5.0,
    backend_id: uuid.UUID | None = None,
    model: str | None = None,
) -> Report:
    """Scrape every selected engine once, all at the same time, then sum the ledger over each
    series' window. The ledger is read after the scrapes, so an event that lands meanwhile and
    is timestamped before its engine's scrape is counted on both sides."""
    targets = select_targets(await load_targets(db), backend_id, model)
    endpoints = {(t.metrics_url, t.api_key_encrypted): t for t in targets}
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(_scrape_target(session, t, decrypt, timeout_seconds) for t in endpoints.values())
        )
    scrapes = dict(zip(endpoints, answers, strict=True))
    reports = []
    for target in targets:
        assessed = assess(target, since, scrapes[(target.metrics_url, target.api_key_encrypted)])
        if isinstance(assessed, BackendReport):
            reports.append(assessed)
            continue
        window, engine = assessed
        ledger = await ledger_tokens(db, target.backend_ids, window)
        reports.append(judge(target, window, ledger, engine, tolerance_tokens))
    return Report(since, tolerance_tokens, reports)
