"""Demo data: an org with people of every role, API keys, two priced models, and a month of usage.

`seed` is what `ias-admin demo seed` runs. The usage is synthetic but goes through the real
ledger path (`Ledger.store`, which writes the raw events and the minute, hour and day rollups in
one transaction), so the portal's dashboard, the usage API and the CSV export show figures that
are true of the events stored.

Running it again changes nothing: the org, its people and its keys are found by their fixed ids
and emails, and every event has an id derived from the org and its position in the month, which
the ledger stores once. It refuses a database that holds any org but the demo one, unless forced:
demo people with known roles have no place next to real tenants.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ias.analytics.ledger import Ledger
from ias.contracts.api_keys import display_prefix, generate_key, hash_key
from ias.contracts.usage import Prices, UsageEvent
from ias.demo import demo_models, new_model
from ias.errors import InvalidRequest
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.kit.passwords import hash_password, password_problem
from ias.models import ApiKey, Membership, ModelEntry, ModelKind, Org, OrgRole, User
from ias.settings import EngineSettings

DEMO_ORG_ID = uuid.UUID("0190a1c5-de30-7000-8000-00000000de30")
DEMO_ORG_SLUG = "demo"
DEMO_DOMAIN = "demo.ias.local"
DAYS = 30
BATCH = 1000
# Requests per weekday at the busiest hour; nights and weekends are quieter.
PEAK_PER_HOUR = 40


# The models `ias up` serves from its built-in engine (its default settings), so the seeded key
# can call them at once: the first chat model and the first embedding model.
_DEFAULT_MODELS = demo_models(EngineSettings())
CHAT = next(m for m in _DEFAULT_MODELS if m.kind is ModelKind.CHAT).name
EMBED = next(m for m in _DEFAULT_MODELS if m.kind is ModelKind.EMBEDDING).name
MODELS = tuple(m for m in _DEFAULT_MODELS if m.name in (CHAT, EMBED))
ROLES = (OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER, OrgRole.VIEWER)
KEYS = (("web-app", OrgRole.MEMBER), ("batch-jobs", OrgRole.ADMIN))


class DemoRefused(Exception):
    """The database holds real orgs: seeding demo people next to them needs --force."""


@dataclass
class SeedReport:
    org_id: uuid.UUID
    people: dict[str, str] = field(default_factory=dict)  # email → role
    password: str | None = None  # only when the people were created now
    new_keys: dict[str, str] = field(default_factory=dict)  # name → secret, shown once
    events: int = 0  # events of the month, stored now or before
    stored: int = 0  # events new to the ledger in this run
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micros: int = 0

    def add(self, event: UsageEvent) -> None:
        self.events += 1
        self.requests += 1
        self.prompt_tokens += event.prompt_tokens
        self.completion_tokens += event.completion_tokens
        self.cost_micros += event.cost_micros


async def seed(
    db: Database,
    api_key_secret: str,
    *,
    force: bool = False,
    password: str | None = None,
    now: datetime | None = None,
) -> SeedReport:
    now = now or utcnow()
    if password is not None:
        problem = password_problem(password, email=f"owner@{DEMO_DOMAIN}")
        if problem is not None:
            raise InvalidRequest(problem, param="password", code="weak_password")
    report = SeedReport(DEMO_ORG_ID)
    async with db.unit_of_work() as session:
        await _refuse_real_orgs(session, force)
        models = await _ensure_models(session)
        await _ensure_org(session, now)
        users = await _ensure_people(session, report, password, now)
        keys = await _ensure_keys(session, report, users, api_key_secret, now)
    ledger = Ledger(db)
    for batch in _batches(_month_of_usage(keys, models, now, report)):
        report.stored += await ledger.store(batch)
    return report


async def _refuse_real_orgs(session: AsyncSession, force: bool) -> None:
    others = await session.scalar(
        select(func.count()).select_from(Org).where(Org.id != DEMO_ORG_ID)
    )
    if others and not force:
        raise DemoRefused(
            f"this database holds {others} org(s) besides the demo one; demo people with known "
            "roles do not belong next to real tenants (use --force to seed all the same)"
        )


async def _ensure_models(session: AsyncSession) -> dict[str, Prices]:
    """The two demo models, created with prices if missing; existing ones keep theirs."""
    prices = {}
    for spec in MODELS:
        model = await session.scalar(select(ModelEntry).where(ModelEntry.name == spec.name))
        if model is None:
            model = new_model(spec)
            session.add(model)
        prices[spec.name] = Prices(
            model.input_price_micros_per_mtok,
            model.output_price_micros_per_mtok,
            model.cached_input_price_micros_per_mtok,
        )
    await session.flush()
    return prices


async def _ensure_org(session: AsyncSession, now: datetime) -> None:
    if await session.get(Org, DEMO_ORG_ID) is None:
        session.add(
            Org(id=DEMO_ORG_ID, name="Demo", slug=DEMO_ORG_SLUG, created_at=now, updated_at=now)
        )
        await session.flush()


async def _ensure_people(
    session: AsyncSession, report: SeedReport, password: str | None, now: datetime
) -> dict[OrgRole, uuid.UUID]:
    """One member per role, `<role>@demo.ias.local`; an existing account keeps its password."""
    users = {}
    for role in ROLES:
        email = f"{role.value}@{DEMO_DOMAIN}"
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            if report.password is None:
                report.password = password or secrets.token_urlsafe(12)
            user = User(
                id=uuid7(),
                email=email,
                password_hash=hash_password(report.password),
                name=f"Demo {role.value}",
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            await session.flush()
        if await session.get(Membership, (DEMO_ORG_ID, user.id)) is None:
            session.add(Membership(org_id=DEMO_ORG_ID, user_id=user.id, role=role, created_at=now))
        users[role] = user.id
        report.people[email] = role.value
    await session.flush()
    return users


async def _ensure_keys(
    session: AsyncSession,
    report: SeedReport,
    users: dict[OrgRole, uuid.UUID],
    secret: str,
    now: datetime,
) -> list[ApiKey]:
    keys = []
    for name, creator in KEYS:
        key = await session.scalar(
            select(ApiKey).where(
                ApiKey.org_id == DEMO_ORG_ID, ApiKey.name == name, ApiKey.revoked_at.is_(None)
            )
        )
        if key is None:
            plain = generate_key()
            key = ApiKey(
                id=uuid7(),
                org_id=DEMO_ORG_ID,
                created_by=users[creator],
                name=name,
                prefix=display_prefix(plain),
                key_hash=hash_key(plain, secret),
                created_at=now,
            )
            session.add(key)
            report.new_keys[name] = plain
        keys.append(key)
    await session.flush()
    return keys


def _month_of_usage(
    keys: list[ApiKey], prices: dict[str, Prices], now: datetime, report: SeedReport
) -> Iterator[UsageEvent]:
    """The last `DAYS` whole days of traffic: the web app chats through the day and the night
    is quiet; the batch jobs embed at night. Each hour of each key is drawn from a generator
    seeded by that hour, so the same hour always yields the same events (the same ids and
    times): a run on a later day adds the new days and stores nothing twice."""
    first_day = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(DAYS):
        for hour in range(24):
            start = first_day + timedelta(days=day, hours=hour)
            for key, model in ((keys[0], CHAT), (keys[1], EMBED)):
                slot = f"{DEMO_ORG_ID}:{start.isoformat()}:{key.name}"
                rng = random.Random(slot)  # noqa: S311 - demo data, meant to repeat
                night = model == EMBED
                count = _requests_in_hour(rng, hour, weekend=start.weekday() >= 5, night=night)
                for number in range(count):
                    event_id = uuid.uuid5(DEMO_ORG_ID, f"{slot}:{number}")
                    event = _event(rng, key, model, prices[model], start, event_id)
                    report.add(event)
                    yield event


def _requests_in_hour(rng: random.Random, hour: int, *, weekend: bool, night: bool) -> int:
    # A smooth day curve peaking mid-afternoon (or at 2 am for batch jobs), with some noise.
    peak = 2 if night else 15
    level = (1 + math.cos((hour - peak) / 24 * 2 * math.pi)) / 2
    expected = PEAK_PER_HOUR * (0.05 + 0.95 * level) * (0.4 if weekend and not night else 1)
    return max(0, round(rng.gauss(expected, expected / 5)))


def _event(
    rng: random.Random,
    key: ApiKey,
    model: str,
    prices: Prices,
    hour: datetime,
    event_id: uuid.UUID,
) -> UsageEvent:
    chat = model == CHAT
    status, error = 200, None
    if rng.random() < 0.015:  # now and then a refusal or a backend failure
        status, error = rng.choice(((429, "rate_limit_exceeded"), (502, "upstream_error")))
    prompt = 0 if status == 429 else int(rng.lognormvariate(5.5 if chat else 4.5, 0.8))
    completion = int(rng.lognormvariate(5.0, 0.7)) if chat and status == 200 else 0
    stream = chat and rng.random() < 0.7
    latency = 40 + completion * 12 + int(rng.expovariate(1 / 30)) if chat else 15 + prompt // 20
    return UsageEvent(
        event_id=event_id,
        ts=hour + timedelta(seconds=rng.uniform(0, 3599.999)),
        org_id=DEMO_ORG_ID,
        user_id=key.created_by,
        api_key_id=key.id,
        model=model,
        backend_id=None,
        endpoint="chat/completions" if chat else "embeddings",
        http_status=status,
        error_type=error,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=0,
        cost_micros=prices.cost_micros(prompt, completion, 0),
        latency_ms=latency,
        ttft_ms=40 + int(rng.expovariate(1 / 60)) if stream and status == 200 else None,
        stream=stream,
        partial=False,
    )


def _batches(events: Iterator[UsageEvent]) -> Iterator[list[UsageEvent]]:
    batch: list[UsageEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
