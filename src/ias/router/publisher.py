"""Publishing usage batches to RabbitMQ with publisher confirms.

Each batch is one persistent message, published `mandatory` on a channel in confirm mode: the
call returns only once the broker has taken responsibility for it (written to the quorum queue),
and raises if the broker refuses it, cannot route it, or does not answer in time. Several calls
run at once, so throughput is not bound by one confirm round trip after another.

The connection is opened on first use and after any failure, never retried here: the caller
(the spool relay) keeps the batch and decides when to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ias.contracts.ledger_topology import ROUTING_KEY, declare_topology
from ias.contracts.usage import BATCH_CONTENT_TYPE

if TYPE_CHECKING:
    from aio_pika.abc import AbstractConnection, AbstractExchange

logger = logging.getLogger("ias.router.ledger")


class RabbitPublisher:
    def __init__(
        self, url: str, *, connect_seconds: float = 5.0, confirm_seconds: float = 10.0
    ) -> None:
        self._url = url
        self._connect_seconds = connect_seconds
        self._confirm_seconds = confirm_seconds
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._opening = asyncio.Lock()

    async def publish(self, body: bytes, count: int) -> None:
        import aio_pika

        exchange = await self._open()
        message = aio_pika.Message(
            body,
            content_type=BATCH_CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={"events": count},
        )
        try:
            await exchange.publish(
                message, routing_key=ROUTING_KEY, mandatory=True, timeout=self._confirm_seconds
            )
        except Exception:
            await self._reset()
            raise

    def _ready(self) -> AbstractExchange | None:
        connection = self._connection
        if connection is not None and not connection.is_closed:
            return self._exchange
        return None

    async def _open(self) -> AbstractExchange:
        exchange = self._ready()
        if exchange is not None:
            return exchange
        async with self._opening:  # one connection attempt, however many publishes wait
            exchange = self._ready()
            if exchange is not None:
                return exchange
            import aio_pika

            await self._reset()
            connection = await aio_pika.connect(self._url, timeout=self._connect_seconds)
            try:
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                exchange = await declare_topology(channel)
            except BaseException:
                await connection.close()
                raise
            self._connection, self._exchange = connection, exchange
            logger.info("publishing usage events to RabbitMQ")
            return exchange

    async def _reset(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        await self._reset()
