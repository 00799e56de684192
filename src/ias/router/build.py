"""Builds the router from settings, and opens and closes what it holds in the lifespan."""

from __future__ import annotations

from contextlib import AsyncExitStack

import aiohttp

from ias.contracts.invalidation import KEYS_CHANNEL, MODELS_CHANNEL
from ias.contracts.usage import UsageSink
from ias.kit.crypto import Encryptor
from ias.kit.db import Database
from ias.kit.notify import Notifier
from ias.limits.resilient import ResilientLimiter
from ias.limits.types import Limiter
from ias.router import metrics
from ias.router.app import RouterApp
from ias.router.catalog import ModelCatalog
from ias.router.keys import KeyResolver
from ias.router.last_used import LastUsed
from ias.router.prober import Prober
from ias.router.state import RouterState
from ias.router.upstream import Timeouts
from ias.settings import Settings

CACHE_SALT_PURPOSE = b"ias vllm cache salt:"


def build_router(
    settings: Settings, db: Database, notifier: Notifier, sink: UsageSink, limiter: Limiter
) -> RouterApp:
    """The router app; subscribes to invalidations (call before the notifier starts)."""
    config = settings.router
    keys = KeyResolver(
        db,
        settings.secret("api_key_secret"),
        ttl=config.key_cache_ttl_seconds,
        negative_ttl=config.negative_key_cache_ttl_seconds,
    )
    catalog = ModelCatalog(
        db,
        Encryptor(settings.secret("encryption_key")),
        refresh_seconds=config.catalog_refresh_seconds,
    )
    notifier.subscribe(KEYS_CHANNEL, keys.invalidate)
    notifier.subscribe(MODELS_CHANNEL, catalog.invalidate)
    if isinstance(limiter, ResilientLimiter):
        limiter.watch_degraded(metrics.limiter_degraded)
    state = RouterState(
        keys=keys,
        catalog=catalog,
        limiter=limiter,
        sink=sink,
        last_used=LastUsed(db, interval_seconds=config.last_used_interval_seconds),
        timeouts=Timeouts(
            connect=config.connect_timeout_seconds,
            first_token=config.first_token_timeout_seconds,
            between_chunks=config.between_chunks_timeout_seconds,
            total=config.total_timeout_seconds,
        ),
        max_body_bytes=config.max_body_bytes,
        body_read_seconds=config.body_read_seconds,
        salt_secret=CACHE_SALT_PURPOSE + settings.secret("api_key_secret").encode(),
    )
    return RouterApp(state)


async def open_router(router: RouterApp, stack: AsyncExitStack, probe_seconds: float) -> None:
    state = router.state
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300)
    state.session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
    stack.push_async_callback(state.session.close)
    await state.catalog.start()
    stack.push_async_callback(state.catalog.close)
    catalog = state.catalog
    prober = Prober(
        state.session,
        catalog.backends,
        interval_seconds=probe_seconds,
        on_probed=lambda: metrics.report_backends(
            (route.name, backend) for route in catalog.routes() for backend in route.backends
        ),
    )
    prober.start()
    stack.push_async_callback(prober.close)
    state.last_used.start()
    stack.push_async_callback(state.last_used.close)
