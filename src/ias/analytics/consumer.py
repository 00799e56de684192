"""The ledger consumer: usage messages from RabbitMQ into the ledger, in batches, exactly once.

It guards "no event lost, none counted twice" together with `Ledger.store`:

* messages are acknowledged only after the transaction that stored their events has committed;
  a consumer that dies before that hands them back to the queue, and storing them again changes
  nothing (the ledger skips events it already holds);
* a message that is not a batch of valid usage events is rejected without requeue, which sends
  it to the dead-letter queue for an operator, and the messages around it go on;
* a database that is down, restarting or refusing a transaction (serialization failure,
  deadlock, timeout) is retried with capped exponential backoff while the batch stays
  unacknowledged: such messages are never dead-lettered;
* on stop it finishes the transaction in flight (then acknowledges) or abandons a batch that is
  waiting for the database; abandoned messages go back to the queue when the channel closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from ias.analytics.ledger import Ledger
from ias.analytics.metrics import record_dead_lettered, record_retry
from ias.contracts.ledger_topology import QUEUE, declare_topology
from ias.contracts.usage import UsageEvent, decode_batch
from ias.kit.tracing import consumer_span
from ias.settings import AnalyticsSettings

if TYPE_CHECKING:
    from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

logger = logging.getLogger("ias.analytics.consumer")

CONNECT_TIMEOUT_SECONDS = 10.0
# SQLAlchemy renders a wrapped driver error as "<class 'asyncpg...Error'>: message".
_DRIVER_CLASS_PREFIX = re.compile(r"^<class '[\w.]+'>:\s*")
# SQLSTATE classes that say "this data can never be stored" rather than "not now".
_DATA_ERROR_CLASSES = ("22", "23")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts to store a batch: first, doubling, capped."""

    first_seconds: float = 0.1
    max_seconds: float = 5.0

    def delays(self) -> Sequence[float]:
        delays, delay = [], self.first_seconds
        while delay < self.max_seconds:
            delays.append(delay)
            delay *= 2
        return [*delays, self.max_seconds]


@dataclass(slots=True)
class ConsumerStats:
    events_stored: int = 0
    batches_stored: int = 0
    messages_acked: int = 0
    messages_dead_lettered: int = 0
    retries: int = 0


@dataclass(slots=True)
class _Batch:
    messages: list[AbstractIncomingMessage] = field(default_factory=list)
    events: list[UsageEvent] = field(default_factory=list)
    per_message: list[list[UsageEvent]] = field(default_factory=list)


class _Unstorable(Exception):
    """The events cannot be stored however often we try (bad values, constraint violations)."""


class _Stopped(Exception):
    """Stop was requested while a batch waited for the database."""


def is_data_error(error: BaseException) -> bool:
    """Whether storing failed because of the events themselves, not the database's state."""
    if isinstance(error, ValueError | DataError | IntegrityError):
        return True
    driver_error = getattr(error, "orig", None) or error
    sqlstate = getattr(driver_error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _DATA_ERROR_CLASSES


def is_transient(error: BaseException) -> bool:
    """Whether storing may succeed later: anything from the database that is not the data's
    fault (lost or refused connections, serialization failures, deadlocks, timeouts, a schema
    not migrated yet). Holding messages is always safer than dead-lettering billable events."""
    if is_data_error(error):
        return False
    return isinstance(error, SQLAlchemyError | OSError) or hasattr(error, "sqlstate")


def describe(error: BaseException) -> str:
    """One line naming the error; never the SQL statement or its parameters."""
    driver_error = getattr(error, "orig", None) or error
    sqlstate = getattr(driver_error, "sqlstate", None)
    lines = _DRIVER_CLASS_PREFIX.sub("", str(driver_error)).strip().splitlines()
    name = type(driver_error).__name__
    detail = f"{name} [{sqlstate}]" if sqlstate else name
    return f"{detail}: {lines[0]}" if lines else detail


class UsageConsumer:
    """Consumes `ias.usage.events` until `stop` is set."""

    def __init__(
        self,
        ledger: Ledger,
        amqp_url: str,
        settings: AnalyticsSettings,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._ledger = ledger
        self._url = amqp_url
        self._settings = settings
        self._backoff = backoff or Backoff()
        self.stats = ConsumerStats()

    async def run(self, stop: asyncio.Event) -> None:
        import aio_pika  # only processes that talk to the broker pay for importing it

        connection = await self._connect(aio_pika.connect_robust, stop)
        if connection is None:
            return  # stopped before the broker could be reached
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self._settings.prefetch)
            await declare_topology(channel)
            queue = await channel.get_queue(QUEUE)
            await self._consume(queue, stop)
        finally:
            # Closing hands every message not yet acknowledged back to the queue.
            await connection.close()

    async def _connect(self, connect: Any, stop: asyncio.Event) -> Any:
        """The first connection, tried again with backoff until it works or `stop` is set: a
        broker that is slow or restarting when the worker starts is not a reason to exit. (Once
        connected, the robust connection reconnects on its own.)"""
        from aiormq.exceptions import AMQPError

        delays = iter(self._backoff.delays())
        delay = next(delays)
        while not stop.is_set():
            try:
                return await connect(self._url, timeout=CONNECT_TIMEOUT_SECONDS)
            except (OSError, TimeoutError, AMQPError) as exc:
                logger.warning(
                    "cannot reach RabbitMQ (%s); trying again in %.1f s", type(exc).__name__, delay
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = next(delays, delay)
        return None

    async def _consume(self, queue: AbstractQueue, stop: asyncio.Event) -> None:
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        consumer_tag = await queue.consume(inbox.put)
        logger.info("consuming usage events from %s", QUEUE)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                batch = await self._collect(inbox, stopping)
                if batch is None:
                    break
                try:
                    with _batch_span(batch):
                        await self._settle(batch, stop)
                except _Stopped:
                    logger.info(
                        "stopping with %d messages unstored; the broker will redeliver them",
                        len(batch.messages),
                    )
                    break
        finally:
            stopping.cancel()
            with contextlib.suppress(Exception):  # a closed channel has no consumer left
                await queue.cancel(consumer_tag)

    async def _collect(
        self, inbox: asyncio.Queue[AbstractIncomingMessage], stopping: asyncio.Future[Any]
    ) -> _Batch | None:
        """Messages until the batch holds enough events, has waited long enough, or holds as
        many messages as the broker will hand out unacknowledged. None when stopping."""
        loop = asyncio.get_running_loop()
        batch = _Batch()
        deadline: float | None = None
        while (
            len(batch.events) < self._settings.batch_max_events
            and len(batch.messages) < self._settings.prefetch
        ):
            timeout = None if deadline is None else deadline - loop.time()
            if timeout is not None and timeout <= 0:
                break
            message = await self._next(inbox, stopping, timeout)
            if stopping.done():
                return None
            if message is None:
                break
            if await self._add(batch, message) and deadline is None:
                deadline = loop.time() + self._settings.batch_max_wait_ms / 1000
        return batch

    @staticmethod
    async def _next(
        inbox: asyncio.Queue[AbstractIncomingMessage],
        stopping: asyncio.Future[Any],
        wait_seconds: float | None,
    ) -> AbstractIncomingMessage | None:
        if not inbox.empty():
            return inbox.get_nowait()
        getting = asyncio.ensure_future(inbox.get())
        waiters: set[asyncio.Future[Any]] = {getting, stopping}
        await asyncio.wait(waiters, timeout=wait_seconds, return_when="FIRST_COMPLETED")
        if getting.done():
            return getting.result()
        getting.cancel()
        return None

    async def _add(self, batch: _Batch, message: AbstractIncomingMessage) -> bool:
        """Add a message's events, or dead-letter it if it has none a ledger could hold."""
        try:
            events = decode_batch(message.body)
        except ValueError as exc:
            # Its events cannot be counted: it counts as one.
            await self._dead_letter(message, str(exc), events=1)
            return False
        batch.messages.append(message)
        batch.events.extend(events)
        batch.per_message.append(events)
        return True

    async def _settle(self, batch: _Batch, stop: asyncio.Event) -> None:
        try:
            stored = await self._store(batch.events, stop)
        except _Unstorable:
            await self._settle_one_by_one(batch, stop)
            return
        self.stats.events_stored += stored
        self.stats.batches_stored += 1
        await self._ack(batch.messages)

    async def _settle_one_by_one(self, batch: _Batch, stop: asyncio.Event) -> None:
        """Find the messages that spoil a batch by storing each message on its own."""
        for message, events in zip(batch.messages, batch.per_message, strict=True):
            try:
                self.stats.events_stored += await self._store(events, stop)
            except _Unstorable as exc:
                await self._dead_letter(message, str(exc), events=len(events))
                continue
            await self._ack([message])

    async def _store(self, events: list[UsageEvent], stop: asyncio.Event) -> int:
        """`Ledger.store`, retried while the database is unavailable."""
        delays = self._backoff.delays()
        attempt = 0
        while True:
            try:
                return await self._ledger.store(events)
            except Exception as exc:
                if is_data_error(exc):
                    raise _Unstorable(describe(exc)) from exc
                if not is_transient(exc):
                    raise
                delay = delays[min(attempt, len(delays) - 1)]
                attempt += 1
                self.stats.retries += 1
                record_retry()
                logger.warning(
                    "storing %d usage events failed (attempt %d: %s); retrying in %.1f s",
                    len(events),
                    attempt,
                    describe(exc),
                    delay,
                )
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                continue
            raise _Stopped

    async def _ack(self, messages: list[AbstractIncomingMessage]) -> None:
        # One acknowledgement per channel covers every message up to the highest tag: earlier
        # ones were either in this batch or settled before it. After a reconnect, messages from
        # the old channel cannot be acknowledged; the broker redelivers them and the ledger
        # skips them as duplicates.
        last: dict[int, AbstractIncomingMessage] = {}
        gone = 0
        for message in messages:
            try:
                channel = id(message.channel)  # raises once the channel has closed
            except Exception:
                gone += 1
                continue
            if channel not in last or _tag(message) > _tag(last[channel]):
                last[channel] = message
        for message in last.values():
            try:
                await message.ack(multiple=len(messages) > 1)
            except Exception:  # closed since: the same as a channel already gone
                gone = len(messages)
                break
        if gone:
            logger.info(
                "could not acknowledge %d stored messages (their channel closed); the broker "
                "redelivers them and the ledger skips their events",
                gone,
            )
            return
        self.stats.messages_acked += len(messages)

    async def _dead_letter(
        self, message: AbstractIncomingMessage, reason: str, *, events: int
    ) -> None:
        logger.warning(
            "usage message %s (delivery tag %s) dead-lettered: %s",
            message.message_id or "without id",
            message.delivery_tag,
            reason,
        )
        self.stats.messages_dead_lettered += 1
        try:
            await message.reject(requeue=False)
        except Exception as exc:  # the channel is gone; the broker redelivers it
            logger.info("could not reject usage message (%s); it will be redelivered", exc)
            return
        record_dead_lettered(events)


def _batch_span(batch: _Batch) -> contextlib.AbstractContextManager[None]:
    """One span per stored batch, linked to the trace of every request it bills (when on)."""
    return consumer_span(
        "usage.store",
        (event.traceparent for event in batch.events),
        {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.destination.name": QUEUE,
            "messaging.batch.message_count": len(batch.messages),
            "ias.usage.events": len(batch.events),
        },
    )


def _tag(message: AbstractIncomingMessage) -> int:
    return message.delivery_tag or 0
