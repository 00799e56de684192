"""The usage ledger's Prometheus metrics, and the scrape endpoint of `ias worker usage`.

Every event handed to the ledger ends up counted once in `ias_ledger_events_total`: `stored`
(new to the ledger), `duplicate` (already held, or repeated in its batch) or `dead_lettered`
(rejected to the dead-letter queue). They are recorded in `Ledger.store` and the consumer, so
the embedded mode, where the router's spool calls `Ledger.store` itself, counts the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from ias.contracts.usage import UsageEvent

logger = logging.getLogger("ias.analytics.metrics")

BATCH_EVENTS = Histogram(
    "ias_ledger_batch_events",
    "Events per batch stored in the ledger (one transaction), duplicates included.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000),
)
LAG_SECONDS = Gauge(
    "ias_ledger_lag_seconds",
    "Age of the oldest event in the last batch stored, from the events' own timestamps.",
    multiprocess_mode="livemax",
)
EVENTS = Counter(
    "ias_ledger_events_total",
    "Usage events handed to the ledger, by outcome: stored, duplicate or dead_lettered.",
    ["outcome"],
)
DB_RETRIES = Counter(
    "ias_ledger_db_retries_total",
    "Attempts to store a batch that failed on the database and were retried after a wait.",
)
for _outcome in ("stored", "duplicate", "dead_lettered"):
    EVENTS.labels(_outcome)  # every outcome is exported from the start, at 0


def record_stored_batch(events: Sequence[UsageEvent], new: int) -> None:
    """A batch committed: `new` of its events were new to the ledger, the rest duplicates."""
    BATCH_EVENTS.observe(len(events))
    EVENTS.labels("stored").inc(new)
    EVENTS.labels("duplicate").inc(len(events) - new)
    oldest = min(event.ts for event in events)
    LAG_SECONDS.set(max(0.0, time.time() - oldest.timestamp()))


def record_dead_lettered(events: int) -> None:
    EVENTS.labels("dead_lettered").inc(events)


def record_retry() -> None:
    DB_RETRIES.inc()


def serve_metrics(host: str, port: int) -> Callable[[], None]:
    """Serve the default registry at `http://host:port/metrics` from a thread, for a process
    with no HTTP server of its own; returns the function that stops it. Raises OSError when
    the address cannot be bound."""
    server, thread = start_http_server(port, addr=host)
    logger.info("serving metrics on http://%s:%d/metrics", host, server.server_port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop
