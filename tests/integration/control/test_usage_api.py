"""Usage reports: sums per bucket and group, who sees what, the CSV export, and bad input."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from ias.control.usage import service
from ias.kit.clock import utcnow
from ias.kit.ids import uuid7
from ias.models import ApiKey, Granularity, UsageRollup
from tests.integration.control.conftest import Person, World, control_context

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DAY1 = datetime(2024, 5, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
RANGE = {"start": "2024-05-01T00:00:00Z", "end": "2024-05-03T00:00:00Z"}


def counters(
    requests: int, prompt: int, completion: int, cached: int, cost_micros: int, errors: int
) -> dict[str, Any]:
    return {
        "requests": requests,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cached_tokens": cached,
        "cost_usd": cost_micros / 1_000_000,
        "cost_micros": cost_micros,
        "errors": errors,
    }


def rollup(
    org: uuid.UUID,
    at: datetime,
    key: uuid.UUID,
    user: uuid.UUID | None,
    model: str,
    numbers: tuple[int, int, int, int, int, int],
    granularity: Granularity = Granularity.DAY,
) -> UsageRollup:
    requests, prompt, completion, cached, cost, errors = numbers
    return UsageRollup(
        org_id=org,
        granularity=granularity,
        bucket=at,
        api_key_id=key,
        model=model,
        user_id=user,
        requests=requests,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        cost_micros=cost,
        errors=errors,
    )


def api_key(org: uuid.UUID, creator: Person, name: str) -> ApiKey:
    return ApiKey(
        id=uuid7(),
        org_id=org,
        created_by=creator.id,
        name=name,
        prefix="ias_usage",
        key_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        created_at=utcnow(),
    )


async def store(app: ASGIApp, *rows: Any) -> None:
    async with control_context(app).db.unit_of_work() as session:
        for row in rows:
            session.add(row)
            await session.flush()


@dataclass
class Scenario:
    """Org A: a member's key and an admin's key, two models, two days; noise around them."""

    world: World
    member_key: ApiKey
    admin_key: ApiKey


@pytest.fixture
async def scenario(world: World, control_app: ASGIApp) -> Scenario:
    member, admin = world["member"], world["admin"]
    member_key = api_key(world.org, member, "member key")
    admin_key = api_key(world.org, admin, "admin key")
    await store(control_app, member_key, admin_key)
    org, m, a = world.org, member_key.id, admin_key.id
    await store(
        control_app,
        rollup(org, DAY1, m, member.id, "alpha", (2, 10, 5, 1, 100_000, 0)),
        rollup(org, DAY1, a, admin.id, "beta", (3, 20, 10, 0, 200_000, 1)),
        rollup(org, DAY2, m, member.id, "beta", (1, 7, 3, 2, 100_000, 1)),
        rollup(org, DAY2, a, admin.id, "alpha", (4, 1, 1, 0, 1, 0)),
        # Outside the range, at another granularity, or of another org: never counted.
        rollup(org, DAY1 - timedelta(days=1), m, member.id, "alpha", (50, 1, 1, 1, 1, 1)),
        rollup(org, DAY2 + timedelta(days=1), m, member.id, "alpha", (60, 1, 1, 1, 1, 1)),
        rollup(org, DAY1, m, member.id, "alpha", (70, 1, 1, 1, 1, 1), Granularity.HOUR),
        rollup(world.other_org, DAY1, uuid7(), None, "alpha", (80, 1, 1, 1, 1, 1)),
    )
    return Scenario(world, member_key, admin_key)


async def report(
    client: httpx.AsyncClient, who: Person, org: uuid.UUID, **params: str
) -> dict[str, Any]:
    response = await client.get(f"/api/orgs/{org}/usage", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_daily_report_sums_each_bucket_and_totals_them(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    body = await report(client, world["admin"], world.org, **RANGE)
    assert body["data"] == [
        {"bucket": "2024-05-01T00:00:00Z", **counters(5, 30, 15, 1, 300_000, 1)},
        {"bucket": "2024-05-02T00:00:00Z", **counters(5, 8, 4, 2, 100_001, 1)},
    ]
    assert body["totals"] == counters(10, 38, 19, 3, 400_001, 2)
    assert body["start"] == "2024-05-01T00:00:00Z"
    assert body["end"] == "2024-05-03T00:00:00Z"
    assert body["granularity"] == "day"
    assert body["group_by"] is None


async def test_cost_is_summed_exactly_in_micros(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    # Three times $0.10 is $0.30 exactly here; summing floats would give 0.30000000000000004.
    rows = [
        rollup(world.org, DAY1, uuid7(), None, "alpha", (1, 0, 0, 0, 100_000, 0)) for _ in range(3)
    ]
    huge = 2**53 + 1  # more than a float can hold exactly
    rows.append(rollup(world.org, DAY2, uuid7(), None, "alpha", (1, 0, 0, 0, huge, 0)))
    await store(control_app, *rows)
    body = await report(client, world["owner"], world.org, **RANGE)
    first, second = body["data"]
    assert (first["cost_usd"], first["cost_micros"]) == (0.3, 300_000)
    assert second["cost_micros"] == huge
    assert body["totals"]["cost_micros"] == huge + 300_000


async def test_group_by_model_lists_each_model_per_bucket(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    body = await report(client, world["admin"], world.org, group_by="model", **RANGE)
    assert body["group_by"] == "model"
    assert body["data"] == [
        {"bucket": "2024-05-01T00:00:00Z", "model": "alpha", **counters(2, 10, 5, 1, 100_000, 0)},
        {"bucket": "2024-05-01T00:00:00Z", "model": "beta", **counters(3, 20, 10, 0, 200_000, 1)},
        {"bucket": "2024-05-02T00:00:00Z", "model": "alpha", **counters(4, 1, 1, 0, 1, 0)},
        {"bucket": "2024-05-02T00:00:00Z", "model": "beta", **counters(1, 7, 3, 2, 100_000, 1)},
    ]
    assert body["totals"] == counters(10, 38, 19, 3, 400_001, 2)


async def test_group_by_api_key_names_each_key(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    body = await report(client, world["owner"], world.org, group_by="api_key", **RANGE)
    member_key, admin_key = scenario.member_key, scenario.admin_key
    day1 = [
        (str(member_key.id), "member key", counters(2, 10, 5, 1, 100_000, 0)),
        (str(admin_key.id), "admin key", counters(3, 20, 10, 0, 200_000, 1)),
    ]
    day2 = [
        (str(member_key.id), "member key", counters(1, 7, 3, 2, 100_000, 1)),
        (str(admin_key.id), "admin key", counters(4, 1, 1, 0, 1, 0)),
    ]
    expected = [
        {"bucket": bucket, "api_key_id": key_id, "api_key_name": name, **numbers}
        for bucket, lines in (("2024-05-01T00:00:00Z", day1), ("2024-05-02T00:00:00Z", day2))
        for key_id, name, numbers in sorted(lines)
    ]
    assert body["data"] == expected


async def test_group_by_user_attributes_usage_to_each_keys_creator(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    body = await report(client, world["admin"], world.org, group_by="user", **RANGE)
    by_user: dict[str, int] = {}
    for row in body["data"]:
        assert set(row) == {"bucket", "user_id", *counters(0, 0, 0, 0, 0, 0)}
        by_user[row["user_id"]] = by_user.get(row["user_id"], 0) + row["requests"]
    assert by_user == {str(world["member"].id): 3, str(world["admin"].id): 7}
    buckets_and_users = [(row["bucket"], row["user_id"]) for row in body["data"]]
    assert buckets_and_users == sorted(buckets_and_users)


async def test_hour_and_minute_reports_round_the_range_to_whole_buckets(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    key, hour = uuid7(), datetime(2024, 5, 1, 10, tzinfo=UTC)
    await store(
        control_app,
        *(
            rollup(
                world.org,
                hour + timedelta(hours=n),
                key,
                None,
                "alpha",
                (2**n, 0, 0, 0, 0, 0),
                Granularity.HOUR,
            )
            for n in range(4)
        ),
        *(
            rollup(
                world.org,
                hour + timedelta(minutes=n),
                key,
                None,
                "alpha",
                (10 + n, 0, 0, 0, 0, 0),
                Granularity.MINUTE,
            )
            for n in range(3)
        ),
    )
    owner = world["owner"]
    # 12:17 at +02:00 is 10:17 UTC: rounded down to 10:00; 12:05 UTC rounded up to 13:00.
    hourly = await report(
        client,
        owner,
        world.org,
        granularity="hour",
        start="2024-05-01T12:17:00+02:00",
        end="2024-05-01T12:05:00Z",
    )
    assert (hourly["start"], hourly["end"]) == ("2024-05-01T10:00:00Z", "2024-05-01T13:00:00Z")
    assert [(row["bucket"], row["requests"]) for row in hourly["data"]] == [
        ("2024-05-01T10:00:00Z", 1),
        ("2024-05-01T11:00:00Z", 2),
        ("2024-05-01T12:00:00Z", 4),
    ]
    by_minute = await report(
        client,
        owner,
        world.org,
        granularity="minute",
        start="2024-05-01T10:00:30Z",
        end="2024-05-01T10:01:10Z",
    )
    assert (by_minute["start"], by_minute["end"]) == (
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:02:00Z",
    )
    assert [row["requests"] for row in by_minute["data"]] == [10, 11]
    daily = await report(
        client, owner, world.org, start="2024-05-01T15:00:00Z", end="2024-05-01T16:00:00Z"
    )
    assert (daily["start"], daily["end"]) == ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z")
    assert daily["data"] == []  # only hour and minute rollups here: sparse, no empty buckets
    assert daily["totals"] == counters(0, 0, 0, 0, 0, 0)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.mark.parametrize(
    ("granularity", "span"),
    [("day", timedelta(days=7)), ("hour", timedelta(days=7)), ("minute", timedelta(hours=24))],
)
async def test_default_range_ends_now(
    granularity: str, span: timedelta, client: httpx.AsyncClient, world: World
) -> None:
    before = utcnow()
    body = await report(client, world["viewer"], world.org, granularity=granularity)
    end, start = _parse(body["end"]), _parse(body["start"])
    step = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}
    assert before <= end <= utcnow() + step[granularity]
    assert span <= end - start <= span + step[granularity]
    given_end = await report(client, world["viewer"], world.org, end="2024-05-03T00:00:00Z")
    assert (given_end["start"], given_end["end"]) == (
        "2024-04-26T00:00:00Z",
        "2024-05-03T00:00:00Z",
    )


async def test_members_and_viewers_see_only_their_own_keys(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    mine = await report(client, world["member"], world.org, group_by="api_key", **RANGE)
    assert {row["api_key_id"] for row in mine["data"]} == {str(scenario.member_key.id)}
    assert mine["totals"] == counters(3, 17, 8, 3, 200_000, 1)
    users = await report(client, world["member"], world.org, group_by="user", **RANGE)
    assert {row["user_id"] for row in users["data"]} == {str(world["member"].id)}
    viewer = await report(client, world["viewer"], world.org, **RANGE)
    assert viewer["data"] == []
    assert viewer["totals"] == counters(0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("who", ["admin", "owner", "super_admin"])
async def test_admins_owners_and_super_admins_see_every_key(
    who: str, client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    body = await report(client, world[who], world.org, **RANGE)
    assert body["totals"] == counters(10, 38, 19, 3, 400_001, 2)


@pytest.mark.parametrize("path", ["usage", "usage.csv"])
@pytest.mark.parametrize("who", ["other_owner", "stranger"])
async def test_a_foreign_or_unknown_org_is_not_found(
    path: str, who: str, client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    for org in (world.org, uuid.uuid4()):
        response = await client.get(f"/api/orgs/{org}/{path}", headers=world[who].headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["type"] == "not_found_error"


async def test_platform_report_covers_every_org_for_super_admins(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    root = world["super_admin"]
    response = await client.get(
        "/api/admin/usage", params={"group_by": "org", **RANGE}, headers=root.headers
    )
    assert response.status_code == 200, response.text
    ours = [
        row
        for row in response.json()["data"]
        if row["org_id"] in {str(world.org), str(world.other_org)}
    ]
    assert [(row["bucket"], row["org_name"], row["requests"]) for row in ours] == sorted(
        [
            ("2024-05-01T00:00:00Z", "Acme", 5),
            ("2024-05-01T00:00:00Z", "Globex", 80),
            ("2024-05-02T00:00:00Z", "Acme", 5),
        ],
        key=lambda row: (row[0], str(world.org if row[1] == "Acme" else world.other_org)),
    )
    one_org = await client.get(
        "/api/admin/usage", params={"org_id": str(world.other_org), **RANGE}, headers=root.headers
    )
    assert one_org.status_code == 200, one_org.text
    assert one_org.json()["totals"] == counters(80, 1, 1, 1, 1, 1)
    for who in ("owner", "admin", "member", "other_owner", "stranger"):
        refused = await client.get("/api/admin/usage", headers=world[who].headers)
        assert refused.status_code == 403, refused.text
    assert (await client.get("/api/admin/usage")).status_code == 401


async def test_csv_export_has_a_header_one_line_per_row_and_a_file_name(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = scenario.world
    owner = world["owner"]
    response = await client.get(
        f"/api/orgs/{world.org}/usage.csv",
        params={"group_by": "model", **RANGE},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    slug = (await client.get(f"/api/orgs/{world.org}", headers=owner.headers)).json()["slug"]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="usage-{slug}-20240501T0000Z-20240503T0000Z.csv"'
    )
    assert response.text.splitlines() == [
        "bucket,model,requests,prompt_tokens,completion_tokens,total_tokens,cached_tokens,"
        "cost_usd,cost_micros,errors",
        "2024-05-01T00:00:00Z,alpha,2,10,5,15,1,0.100000,100000,0",
        "2024-05-01T00:00:00Z,beta,3,20,10,30,0,0.200000,200000,1",
        "2024-05-02T00:00:00Z,alpha,4,1,1,2,0,0.000001,1,0",
        "2024-05-02T00:00:00Z,beta,1,7,3,10,2,0.100000,100000,1",
    ]
    mine = await client.get(
        f"/api/orgs/{world.org}/usage.csv",
        params={"group_by": "api_key", **RANGE},
        headers=world["member"].headers,
    )
    rows = list(csv.DictReader(io.StringIO(mine.text)))
    assert {(row["api_key_id"], row["api_key_name"]) for row in rows} == {
        (str(scenario.member_key.id), "member key")
    }


async def test_csv_export_defuses_cells_a_spreadsheet_would_run(
    client: httpx.AsyncClient, world: World, control_app: ASGIApp
) -> None:
    owner = world["owner"]
    key = api_key(world.org, owner, "@SUM(A1:A9)")
    models = ['=HYPERLINK("http://x")', "+1", "-1", "@cmd", "plain"]
    await store(
        control_app,
        key,
        *(rollup(world.org, DAY1, key.id, owner.id, model, (1, 0, 0, 0, 0, 0)) for model in models),
    )
    url = f"/api/orgs/{world.org}/usage.csv"
    by_model = await client.get(url, params={"group_by": "model", **RANGE}, headers=owner.headers)
    cells = {row["model"] for row in csv.DictReader(io.StringIO(by_model.text))}
    assert cells == {'\'=HYPERLINK("http://x")', "'+1", "'-1", "'@cmd", "plain"}
    by_key = await client.get(url, params={"group_by": "api_key", **RANGE}, headers=owner.headers)
    assert [row["api_key_name"] for row in csv.DictReader(io.StringIO(by_key.text))] == [
        "'@SUM(A1:A9)"
    ]
    # JSON carries the names as they are.
    body = await report(client, owner, world.org, group_by="model", **RANGE)
    assert {row["model"] for row in body["data"]} == set(models)


LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _span(days: float, granularity: str) -> dict[str, str]:
    end = LONG_AGO + timedelta(days=days)
    return {"start": LONG_AGO.isoformat(), "end": end.isoformat(), "granularity": granularity}


BAD_INPUT = [
    ({"start": "2024-05-01T00:00:00"}, "start", "timezone"),
    ({"start": "2024-04-01T00:00:00Z", "end": "2024-05-01T00:00:00"}, "end", "timezone"),
    ({"start": "last tuesday"}, "start", "datetime"),
    ({"end": "2024-13-45T00:00:00Z"}, "end", "datetime"),
    ({"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T00:00:00Z"}, "start", "before"),
    ({"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"}, "start", "before"),
    ({"start": "2999-01-01T00:00:00Z"}, "start", "before"),
    (_span(7 + 1 / 1440, "minute"), "start", "10,080 buckets"),
    (_span(401, "hour"), "start", "9,600 buckets"),
    (_span(3661, "day"), "start", "3,660 buckets"),
    ({"granularity": "week"}, "granularity", "minute"),
    ({"group_by": "colour"}, "group_by", "model"),
    ({"group_by": "org"}, "group_by", "model"),
    ({"start": "9999-12-30T00:00:00Z", "end": "9999-12-31T12:00:00Z"}, "end", "calendar"),
    ({"start": "0001-01-01T00:00:00+01:00"}, "start", "calendar"),
    ({"end": "0001-01-02T00:00:00Z"}, "end", "calendar"),
]


@pytest.mark.parametrize("path", ["usage", "usage.csv"])
@pytest.mark.parametrize(("params", "param", "words"), BAD_INPUT)
async def test_bad_input_is_a_400_naming_the_parameter(
    path: str,
    params: dict[str, str],
    param: str,
    words: str,
    client: httpx.AsyncClient,
    world: World,
) -> None:
    response = await client.get(
        f"/api/orgs/{world.org}/{path}", params=params, headers=world["member"].headers
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]


@pytest.mark.parametrize(
    "params", [_span(7, "minute"), _span(400, "hour"), _span(3660, "day")], ids=str
)
async def test_the_widest_range_per_granularity_is_allowed(
    params: dict[str, str], client: httpx.AsyncClient, world: World
) -> None:
    body = await report(client, world["member"], world.org, **params)
    assert _parse(body["start"]) == LONG_AGO


async def test_platform_report_refuses_bad_input_too(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        "/api/admin/usage",
        params={"group_by": "team", **RANGE},
        headers=world["super_admin"].headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "group_by"


async def test_a_report_with_too_many_lines_asks_to_narrow_it(
    client: httpx.AsyncClient, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_LINES", 3)
    world = scenario.world
    url = f"/api/orgs/{world.org}/usage"
    response = await client.get(
        url, params={"group_by": "model", **RANGE}, headers=world["admin"].headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "too_many_lines"
    assert len((await report(client, world["admin"], world.org, **RANGE))["data"]) == 2
