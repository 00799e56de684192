"""Limits end to end, through real routers on the shared Redis: per-minute requests and tokens
with OpenAI's headers and 429s, settlement to the engine's real counts, the monthly quota
(R7: never overrun by requests in flight), concurrency slots, one global count across routers,
limits of zero and per model, and limit changes reaching a running router within a second."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from ias.app import create_app
from ias.limits.types import Kind
from ias.router.admission import BYTES_PER_TOKEN_BOUND
from ias.router.usage import MemoryUsageSink
from ias.settings import Settings
from tests.asgi import framework_app, lifespan
from tests.integration.router.conftest import (
    CHAT_MODEL,
    EMBED_MODEL,
    Stack,
    Tenant,
    router_settings,
)
from tests.integration.router.limits_support import (
    access_token,
    add_tenant,
    chat_body,
    counters,
    events_of,
    post,
    reset_seconds,
    room_in_window,
    wait_for_events,
)
from tests.servers import ServerThread

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def reserved(body: bytes, max_tokens: int) -> int:
    """What the router holds for a chat request until it settles: a prompt bound plus the cap."""
    return len(body) // BYTES_PER_TOKEN_BOUND + 1 + max_tokens


def assert_refused(response: httpx.Response, code: str, error_type: str) -> dict[str, object]:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"], error["param"]) == (error_type, code, None)
    assert int(response.headers["retry-after"]) >= 1
    return dict(error)


async def tenant(stack: Stack, **limits: object) -> Tenant:
    return await add_tenant(
        stack.settings.effective_database_url,
        stack.settings.secret("api_key_secret"),
        **limits,  # type: ignore[arg-type]
    )


async def test_requests_per_minute_count_down_then_refuse_with_openai_headers(
    stack: Stack,
) -> None:
    owner = await tenant(stack, key={"rpm_limit": 3})
    body = chat_body(max_tokens=4)
    await room_in_window()
    async with httpx.AsyncClient() as client:
        responses = [await post(client, stack.router_server.url, owner, body) for _ in range(4)]
    admitted, refused = responses[:3], responses[3]
    for response, remaining in zip(admitted, ("2", "1", "0"), strict=True):
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit-requests"] == "3"
        assert response.headers["x-ratelimit-remaining-requests"] == remaining
        assert 0 < reset_seconds(response.headers["x-ratelimit-reset-requests"]) <= 60
        assert "retry-after" not in response.headers
        assert "x-ratelimit-limit-tokens" not in response.headers  # no token limit applies
    error = assert_refused(refused, "rate_limit_exceeded", "rate_limit_error")
    assert f"API key {owner.key_id}" in str(error["message"])
    assert "Limit 3, Used 3, Requested 1" in str(error["message"])
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    reset = reset_seconds(refused.headers["x-ratelimit-reset-requests"])
    assert 0 < reset <= 60
    # retry-after is the reset rounded up to whole seconds (the reset is rounded to the ms).
    assert reset <= int(refused.headers["retry-after"]) <= reset + 1
    # One usage event per admitted request, none for the refusal; each matches one engine run.
    events = await wait_for_events(stack.sink, owner, 3)
    assert all(event.http_status == 200 for event in events)
    for event in events:
        assert len(stack.engine.token_log.records(str(event.event_id))) == 1


async def test_tokens_per_minute_settle_to_real_usage(stack: Stack) -> None:
    limit = 300
    owner = await tenant(stack, org={"tpm_limit": limit})
    scope = f"org:{owner.org_id}"
    body = chat_body(max_tokens=16)
    hold = reserved(body, 16)
    rounds = 8
    # Without settlement these rounds would not fit: the reservations alone exceed the limit.
    assert rounds * hold > limit
    await room_in_window()
    spent = 0
    async with httpx.AsyncClient() as client, counters(stack.settings) as shared:
        for _ in range(rounds):
            response = await post(client, stack.router_server.url, owner, body)
            assert response.status_code == 200, response.text
            assert response.headers["x-ratelimit-limit-tokens"] == str(limit)
            # Admission counts what earlier requests really used plus this one's reservation.
            assert response.headers["x-ratelimit-remaining-tokens"] == str(limit - spent - hold)
            usage = response.json()["usage"]
            used = usage["prompt_tokens"] + usage["completion_tokens"]
            assert used < hold
            spent += used
            # Once settled, the shared counter holds the real usage, not the reservation.
            await shared.wait_for(scope, Kind.TOKENS, spent)
        huge = chat_body(max_tokens=1000)
        refused = await post(client, stack.router_server.url, owner, huge)
        assert (await shared.read(scope))[Kind.TOKENS] == spent  # a refusal counts nothing
    error = assert_refused(refused, "rate_limit_exceeded", "rate_limit_error")
    message = str(error["message"])
    assert message.startswith(f"Request too large for organization {owner.org_id} on tokens")
    assert f"Limit {limit}, Requested {reserved(huge, 1000)}" in message
    assert refused.headers["x-ratelimit-remaining-tokens"] == str(limit - spent)
    events = await wait_for_events(stack.sink, owner, rounds)
    assert sum(event.prompt_tokens + event.completion_tokens for event in events) == spent


async def test_monthly_token_quota_runs_out_as_insufficient_quota(stack: Stack) -> None:
    quota = 120
    owner = await tenant(stack, org={"monthly_token_quota": quota})
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Tell me about rivers."}
    ]
    admitted = 0
    refusal: openai.RateLimitError | None = None
    async with openai.AsyncOpenAI(base_url=stack.v1, api_key=owner.key, max_retries=0) as sdk:
        for _ in range(20):
            try:
                await sdk.chat.completions.create(
                    model=CHAT_MODEL, messages=messages, max_tokens=16
                )
            except openai.RateLimitError as raised:
                refusal = raised
                break
            admitted += 1
        # The month does not roll over in a minute: the same request stays refused.
        with pytest.raises(openai.RateLimitError) as again:
            await sdk.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=16)
    assert refusal is not None, "the quota never ran out"
    assert 1 <= admitted < 20
    for error in (refusal, again.value):
        assert error.status_code == 429
        assert (error.code, error.type) == ("insufficient_quota", "insufficient_quota")
        assert isinstance(error.body, dict)
        assert str(error.body["message"]).startswith("You exceeded your current quota")
        # Retry when the month ends: within a month from now.
        assert 1 <= int(error.response.headers["retry-after"]) <= 31 * 86400
    assert f"of its {quota} tokens this month" in refusal.message
    events = await wait_for_events(stack.sink, owner, admitted)
    assert sum(event.prompt_tokens + event.completion_tokens for event in events) <= quota


@dataclass
class Router:
    settings: Settings
    url: str
    sink: MemoryUsageSink


@dataclass
class Burst:
    responses: list[httpx.Response]
    billed: list[int]  # tokens of each admitted request's usage event
    quota: int
    counted: int  # the shared month counter once settlements have landed


@contextmanager
def fresh_router(stack: Stack, database_url: str) -> Iterator[Router]:
    """A router of its own: its own counters prefix, the same secrets and database."""
    settings = router_settings(database_url, stack.settings.home, f"lm-{uuid.uuid4().hex[:8]}:")
    app = create_app(settings, "router", usage_sink=MemoryUsageSink())
    with ServerThread(app) as server:
        yield Router(settings, server.url, framework_app(app).state.router.state.sink)


async def quota_burst(stack: Stack, router: Router) -> Burst:
    """Fifty requests at once against a monthly quota that holds five reservations."""
    body = chat_body(max_tokens=20, mock={"delay": 0.01})
    hold = reserved(body, 20)
    quota = 5 * hold + hold // 2
    owner = await tenant(stack, org={"monthly_token_quota": quota})
    async with httpx.AsyncClient(timeout=30) as client:
        responses = await asyncio.gather(
            *(post(client, router.url, owner, body) for _ in range(50))
        )
    admitted = sum(response.status_code == 200 for response in responses)
    events = await wait_for_events(router.sink, owner, admitted)
    billed = [event.prompt_tokens + event.completion_tokens for event in events]
    async with counters(router.settings) as shared:
        counted = await shared.reach(f"org:{owner.org_id}", Kind.MONTHLY_TOKENS, sum(billed))
    return Burst(list(responses), billed, quota, counted)


async def test_fifty_parallel_requests_never_overrun_the_monthly_quota(
    stack: Stack, router_database: str
) -> None:
    """R7, on a router of its own so that whatever the burst does to it stays with it."""
    with fresh_router(stack, router_database) as router:
        # A fresh router, cold connections and all: the burst is its first traffic.
        burst = await quota_burst(stack, router)
    billed = burst.billed
    assert billed, "nothing was admitted"
    assert sum(billed) <= burst.quota
    assert len(billed) <= burst.quota // min(billed) + 1
    # The shared month counter holds at least what was billed, and never more than the quota.
    assert sum(billed) <= burst.counted <= burst.quota
    for response in burst.responses:
        assert response.status_code in (200, 429), response.text
        if response.status_code == 429:
            assert_refused(response, "insufficient_quota", "insufficient_quota")


async def test_a_slow_ledger_read_delays_the_first_request_of_a_month_but_serves_it(
    stack: Stack, router_database: str
) -> None:
    owner = await tenant(stack, org={"monthly_token_quota": 10_000})
    ledger = await asyncpg.connect(router_database.replace("postgresql+asyncpg", "postgresql"))
    try:
        with fresh_router(stack, router_database) as router:
            async with httpx.AsyncClient(timeout=30) as client:
                # The month's counter starts from the ledger, which is busy for half a second.
                async with ledger.transaction():
                    await ledger.execute("LOCK TABLE usage_rollups IN ACCESS EXCLUSIVE MODE")
                    first = asyncio.create_task(post(client, router.url, owner, chat_body()))
                    await asyncio.sleep(0.5)
                response = await first
    finally:
        await ledger.close()
    assert response.status_code == 200, response.text


async def test_concurrency_limit_holds_and_frees_every_slot(stack: Stack) -> None:
    owner = await tenant(stack, org={"concurrency_limit": 2})
    body = chat_body(max_tokens=20, stream=True, mock={"delay": 0.05})
    url = f"{stack.router_server.url}/v1/chat/completions"
    headers = {"authorization": f"Bearer {owner.key}", "content-type": "application/json"}

    async def stream(client: httpx.AsyncClient) -> tuple[int, bytes, httpx.Headers]:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            return response.status_code, await response.aread(), response.headers

    async with httpx.AsyncClient(timeout=30) as client:
        results = await asyncio.gather(*(stream(client) for _ in range(6)))
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200, 200, 429, 429, 429, 429]
        for status, content, response_headers in results:
            if status == 200:
                assert content.endswith(b"data: [DONE]\n\n")
                continue
            error = orjson.loads(content)["error"]
            assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
            assert error["message"].startswith(
                f"Too many concurrent requests for organization {owner.org_id}: Limit 2."
            )
            assert response_headers["retry-after"] == "1"
        events = await wait_for_events(stack.sink, owner, 2)
        runs = [stack.engine.token_log.find(str(event.event_id)) for event in events]
        assert all(run is not None and run.completion_tokens == 20 for run in runs)
        async with counters(stack.settings) as shared:
            await shared.wait_for(f"org:{owner.org_id}", Kind.CONCURRENCY, 0)
        # Both slots are free again: two at once are admitted.
        again = await asyncio.gather(stream(client), stream(client))
    assert [status for status, _, _ in again] == [200, 200]
    events = await wait_for_events(stack.sink, owner, 4)
    spans = []
    for event in events:
        run = stack.engine.token_log.find(str(event.event_id))
        assert run is not None
        assert run.finished is not None
        spans += [(run.started, 1), (run.finished, -1)]
    in_flight = peak = 0
    for _, step in sorted(spans):  # at equal times a finish (-1) sorts before a start
        in_flight += step
        peak = max(peak, in_flight)
    assert peak == 2


async def test_a_stream_the_client_cuts_gives_its_slot_back(stack: Stack) -> None:
    owner = await tenant(stack, key={"concurrency_limit": 1})
    url = f"{stack.router_server.url}/v1/chat/completions"
    headers = {"authorization": f"Bearer {owner.key}", "content-type": "application/json"}
    body = chat_body(max_tokens=20, stream=True, mock={"delay": 0.05})
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            assert response.status_code == 200
            chunks = response.aiter_bytes()
            assert await anext(chunks)
            # While the stream runs, the key's only slot is taken.
            busy = await post(client, stack.router_server.url, owner, chat_body(max_tokens=2))
            await response.aclose()  # hang up mid-stream
        error = assert_refused(busy, "rate_limit_exceeded", "rate_limit_error")
        assert str(error["message"]).startswith(
            f"Too many concurrent requests for API key {owner.key_id}: Limit 1."
        )
        (cut,) = await wait_for_events(stack.sink, owner, 1)
        assert cut.partial
        async with counters(stack.settings) as shared:
            await shared.wait_for(f"key:{owner.key_id}", Kind.CONCURRENCY, 0)
        again = await post(client, stack.router_server.url, owner, chat_body(max_tokens=2))
    assert again.status_code == 200, again.text


async def test_two_routers_share_one_requests_per_minute_count(
    stack: Stack, router_database: str
) -> None:
    settings = router_settings(router_database, stack.settings.home, f"lm-{uuid.uuid4().hex[:8]}:")
    owner = await tenant(stack, key={"rpm_limit": 5})
    body = chat_body(max_tokens=2)
    # Two routers, each with its own usage sink (a spool directory is one process's).
    first_app, second_app = (
        create_app(settings, "router", usage_sink=MemoryUsageSink()) for _ in range(2)
    )
    with ServerThread(first_app) as first, ServerThread(second_app) as second:
        await room_in_window()
        async with httpx.AsyncClient() as client:
            responses = [
                await post(client, router.url, owner, body) for router in (first, second) * 5
            ]
        # Requests 1, 3, 5 went to the first router and 2, 4 to the second: one count for both.
        for app, admitted in ((first_app, 3), (second_app, 2)):
            await wait_for_events(framework_app(app).state.router.state.sink, owner, admitted)
    assert [response.status_code for response in responses] == [200] * 5 + [429] * 5
    remaining = [response.headers["x-ratelimit-remaining-requests"] for response in responses]
    assert remaining == ["4", "3", "2", "1", "0"] + ["0"] * 5


async def test_a_limit_set_in_the_control_plane_is_enforced_within_a_second(
    stack: Stack,
) -> None:
    owner = await tenant(stack)
    admin = await tenant(stack, super_admin=True)
    token = await access_token(stack.settings, admin)
    body = chat_body(max_tokens=2)
    control = create_app(stack.settings, "control")
    await room_in_window()
    async with httpx.AsyncClient() as client, lifespan(control):
        for _ in range(3):  # unlimited, and now cached by the router
            response = await post(client, stack.router_server.url, owner, body)
            assert response.status_code == 200
            assert "x-ratelimit-limit-requests" not in response.headers
        transport = httpx.ASGITransport(app=control)
        async with httpx.AsyncClient(transport=transport, base_url="https://control") as api:
            changed = await api.patch(
                f"/api/admin/orgs/{owner.org_id}/limits",
                json={"rpm": 1},
                headers={"authorization": f"Bearer {token}"},
            )
        assert changed.status_code == 200, changed.text
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 1.0:
            response = await post(client, stack.router_server.url, owner, body)
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
    assert statuses[-1] == 429, f"still admitted after {elapsed:.2f} s"
    error = assert_refused(response, "rate_limit_exceeded", "rate_limit_error")
    assert f"organization {owner.org_id} on requests per min (RPM): Limit 1" in str(
        error["message"]
    )
    assert response.headers["x-ratelimit-limit-requests"] == "1"


@pytest.mark.parametrize(
    ("limits", "code", "error_type", "unit"),
    [
        ({"org": {"rpm_limit": 0}}, "rate_limit_exceeded", "rate_limit_error", "requests"),
        ({"key": {"tpm_limit": 0}}, "rate_limit_exceeded", "rate_limit_error", "tokens"),
        ({"org": {"concurrency_limit": 0}}, "rate_limit_exceeded", "rate_limit_error", None),
        ({"org": {"monthly_token_quota": 0}}, "insufficient_quota", "insufficient_quota", None),
    ],
)
async def test_a_limit_of_zero_refuses_every_request(
    stack: Stack, limits: dict[str, object], code: str, error_type: str, unit: str | None
) -> None:
    owner = await tenant(stack, **limits)
    async with httpx.AsyncClient() as client:
        responses = [
            await post(client, stack.router_server.url, owner, chat_body(max_tokens=2)),
            await post(client, stack.router_server.url, owner, chat_body(max_tokens=2)),
            await post(
                client,
                stack.router_server.url,
                owner,
                orjson.dumps({"model": EMBED_MODEL, "input": "hello"}),
                path="embeddings",
            ),
        ]
    for response in responses:
        error = assert_refused(response, code, error_type)
        assert "limit is 0" in str(error["message"])
        assert response.headers["retry-after"] == "60"
        if unit is not None:  # the same headers as any other refusal by that limit
            assert response.headers[f"x-ratelimit-limit-{unit}"] == "0"
            assert response.headers[f"x-ratelimit-remaining-{unit}"] == "0"
            assert reset_seconds(response.headers[f"x-ratelimit-reset-{unit}"]) == 60
    await asyncio.sleep(0.1)
    assert events_of(stack.sink, owner) == []


async def test_a_per_model_limit_leaves_other_models_alone(stack: Stack) -> None:
    owner = await tenant(stack, models={CHAT_MODEL: (1, None)})
    embed = orjson.dumps({"model": EMBED_MODEL, "input": "hello"})
    await room_in_window()
    async with httpx.AsyncClient() as client:
        first = await post(client, stack.router_server.url, owner, chat_body(max_tokens=2))
        second = await post(client, stack.router_server.url, owner, chat_body(max_tokens=2))
        embeddings = [
            await post(client, stack.router_server.url, owner, embed, path="embeddings")
            for _ in range(3)
        ]
    assert first.status_code == 200, first.text
    assert first.headers["x-ratelimit-limit-requests"] == "1"
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    error = assert_refused(second, "rate_limit_exceeded", "rate_limit_error")
    assert f"model {CHAT_MODEL} in organization {owner.org_id}" in str(error["message"])
    for response in embeddings:
        assert response.status_code == 200, response.text
        assert "x-ratelimit-limit-requests" not in response.headers
    await wait_for_events(stack.sink, owner, 4)
