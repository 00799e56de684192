import asyncio, time, logging, uuid
import pytest
from ias.kit.db import Database
from ias.usage_baseline import LedgerBaseline
from ias.limits.redis_limiter import RedisLimiter, redis_limiter_client
from ias.limits.types import Admission, Limit, Kind
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

async def test_probe(router_database) -> None:
    db = Database.from_url(router_database)
    base = LedgerBaseline(db)
    async with db.session() as s:
        pass
    for i in range(3):
        t = time.perf_counter()
        await base(f"org:{uuid.uuid4()}", "202501")
        print("baseline", i, time.perf_counter() - t)
    lim = RedisLimiter(redis_limiter_client(REDIS_URL, timeout_seconds=1.0), prefix=f"p{uuid.uuid4().hex[:6]}:", baseline=base)
    org = uuid.uuid4()
    async def one(i):
        t = time.perf_counter()
        d = await lim.admit(Admission(f"l{i}", (Limit(f"org:{org}", Kind.MONTHLY_TOKENS, 1000),), 50, 0))
        return time.perf_counter() - t, d.admitted
    res = await asyncio.gather(*(one(i) for i in range(50)))
    print(sorted(r[0] for r in res)[::7], sum(r[1] for r in res))
    res = await asyncio.gather(*(one(i) for i in range(50)))
    print(sorted(r[0] for r in res)[::7], sum(r[1] for r in res))
    await lim.close(); await db.dispose()
