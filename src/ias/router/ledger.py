"""The router's end of the usage ledger: a durable spool, and a relay that empties it.

Every request that reaches a backend leaves exactly one usage event, whatever happens to this
process:

1. Before the request goes upstream, `begin` notes in a journal the event to bill if the
   process dies mid-request (the request as known then, marked interrupted, with no tokens).
2. When it ends, `submit` appends the real event to the spool — one `write`, so it survives the
   process being killed — and closes the journal entry.
3. The relay reads the spool in order and publishes batches (several in flight), and only what
   the publisher confirms is counted off; a segment fully confirmed is deleted.

A restarted router first turns the journal's unfinished entries that have no event in the spool
into interrupted events, then delivers everything left over. Delivery is at least once; the
ledger consumer stores each event id once. A broker outage only grows the spool; when the
spool reaches its size limit, `check_room` refuses new requests with 503 rather than serve
traffic that could not be billed.

Each process takes its own slot of the spool directory (`<directory>/<n>`, see `ias.kit.spool`),
so several router workers can share one; a restarted worker takes over a free slot and what
a dead one left in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from pathlib import Path
from typing import Protocol

from ias.contracts.usage import MAX_BATCH_EVENTS, UsageEvent
from ias.errors import Unavailable
from ias.kit.spool import MAX_SLOTS, Batch, Journal, Spool
from ias.router import metrics

logger = logging.getLogger("ias.router.ledger")

JOURNAL_NAME = "inflight.journal"


class Publisher(Protocol):
    async def publish(self, body: bytes, count: int) -> None:
        """Deliver one batch message; return only once it is safe (confirmed), else raise."""

    async def close(self) -> None: ...


class SpoolSink:
    """The router's `UsageSink`: events go to disk first, then to the publisher."""

    def __init__(
        self,
        directory: Path,
        publisher: Publisher,
        *,
        max_bytes: int,
        in_flight: int = 8,
        sync_seconds: float = 0.02,
        linger_seconds: float = 0.01,
        retry_seconds: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        self.spool = Spool(directory, max_bytes=max_bytes, slots=MAX_SLOTS)
        self.journal = Journal(directory / JOURNAL_NAME)  # moved into the slot by `open`
        self.publisher = publisher
        self._in_flight = asyncio.Semaphore(in_flight)
        self._sync_seconds = sync_seconds
        self._linger_seconds = linger_seconds
        self._retry_first, self._retry_most = retry_seconds
        self._retry: deque[Batch] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._failures = 0
        self._reporter = metrics.SpoolReporter()
        self.published = 0

    # -- the request path ------------------------------------------------------------------

    def check_room(self) -> None:
        if self.spool.full:
            raise Unavailable(
                "Usage metering is backed up (this server's usage spool is full), so the request "
                "cannot be served and billed. Please try again shortly."
            )

    def begin(self, interrupted: UsageEvent) -> None:
        self.journal.begin(interrupted.event_id.bytes, interrupted.encode())

    def submit(self, event: UsageEvent) -> None:
        record_id = event.event_id.bytes
        self.spool.append(record_id, event.encode())
        self.journal.end(record_id)  # after the event is written: a crash between is harmless
        self._wake.set()

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> int:
        """Take over what the last process left; returns how many interrupted events it made."""
        present = self.spool.open()  # locks a slot: its journal is this process's alone
        self.journal.path = self.spool.directory / JOURNAL_NAME
        unfinished = self.journal.recover()
        single_layout = self.spool.root / JOURNAL_NAME
        if self.spool.holds_root:
            unfinished |= Journal(single_layout).recover()
        made = 0
        for record_id, interrupted in unfinished.items():
            if record_id not in present:
                self.spool.append(record_id, interrupted)
                made += 1
        self.spool.sync()
        self.journal.start()  # only now: the interrupted events are safely in the spool
        if self.spool.holds_root:
            single_layout.unlink(missing_ok=True)
        self._report()
        if made:
            logger.warning(
                "%d requests were in flight when this router last stopped; each is billed as "
                "an interrupted usage event",
                made,
            )
        return made

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._relay(), name="usage-relay"),
            asyncio.create_task(self._sync(), name="usage-spool-sync"),
        ]

    async def close(self, drain_seconds: float) -> None:
        """Deliver what is spooled for up to `drain_seconds`, then stop; the rest stays on disk."""
        deadline = time.monotonic() + drain_seconds
        while self.spool.pending and time.monotonic() < deadline:
            self._wake.set()
            await asyncio.sleep(0.02)
        if self.spool.pending:
            logger.warning(
                "stopping with %d usage events not yet delivered; they stay in the spool and "
                "are delivered at the next start",
                self.spool.pending,
            )
        for task in [*self._tasks, *self._sending]:
            task.cancel()
        for task in [*self._tasks, *self._sending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.publisher.close()
        self.journal.close()
        self.spool.close()

    # -- background ------------------------------------------------------------------------

    async def _sync(self) -> None:
        """Group commit: one fsync for everything written in the last interval."""
        while True:
            await asyncio.sleep(self._sync_seconds)
            self.spool.rotate_if_due()
            await asyncio.to_thread(self._sync_files)
            if self._reporter.due():
                self._report()

    def _report(self) -> None:
        spool = self.spool
        self._reporter.report(spool.pending, spool.size, spool.oldest_age())

    def _sync_files(self) -> None:
        self.spool.sync()
        self.journal.sync()

    async def _relay(self) -> None:
        while True:
            await self._in_flight.acquire()
            batch = self._next_batch()
            while batch is None:
                self._wake.clear()
                await self._wake.wait()
                # Caught up: let a batch build up for a moment before sending. A message costs
                # about as much to publish for one event as for a thousand (a few hundred µs of
                # CPU), so this is what keeps the cost per event low under load.
                await asyncio.sleep(self._linger_seconds)
                batch = self._next_batch()
            task = asyncio.create_task(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _next_batch(self) -> Batch | None:
        if self._retry:
            if self._failures:  # hold new batches back until the failed ones go through
                return self._retry.popleft() if len(self._sending) == 0 else None
            return self._retry.popleft()
        return self.spool.read_batch(MAX_BATCH_EVENTS)

    async def _send(self, batch: Batch) -> None:
        try:
            if self._failures:
                await asyncio.sleep(self._backoff())
            await self.publisher.publish(b"\n".join(batch.payloads), len(batch.payloads))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failures += 1
            metrics.usage_publish_failed()
            if self._failures == 1:
                logger.warning("could not publish usage events (%r); keeping them spooled", exc)
            self._retry.append(batch)
        else:
            if self._failures:
                logger.info("publishing usage events again after %d failures", self._failures)
                self._failures = 0
            self.spool.delivered(batch)
            self.published += len(batch.payloads)
            metrics.usage_published(len(batch.payloads))
        finally:
            # Off the in-flight set before the relay looks at it again (a done-callback would
            # run too late, and the relay would wait for a wake-up that never comes).
            current = asyncio.current_task()
            if current is not None:
                self._sending.discard(current)
            self._in_flight.release()
            self._wake.set()

    def _backoff(self) -> float:
        return float(min(self._retry_most, self._retry_first * 2 ** min(self._failures - 1, 16)))
