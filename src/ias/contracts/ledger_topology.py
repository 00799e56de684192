"""The broker topology of the usage ledger, declared by whoever connects first.

Publishers (routers) and consumers (`ias worker usage`) both declare it; declarations are
idempotent, so neither needs the other, nor an operator, to have set the broker up.

    exchange  ias.usage         direct, durable     routers publish here, routing key usage.v1
    queue     ias.usage.events  quorum, durable     the consumer's; replicated when the broker is
                                                    a cluster; at most DELIVERY_LIMIT deliveries
    exchange  ias.usage.dead    fanout, durable     where refused and over-delivered messages go
    queue     ias.usage.dead    quorum, durable     kept for an operator to inspect and replay

The delivery limit is high on purpose: a consumer killed mid-batch hands its messages back and
that counts as a delivery, so a low limit would send good events to the dead-letter queue after a
few crashes. Messages are dead-lettered at least once (never dropped on the way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractExchange

EXCHANGE = "ias.usage"
ROUTING_KEY = "usage.v1"
QUEUE = "ias.usage.events"
DEAD_EXCHANGE = "ias.usage.dead"
DEAD_QUEUE = "ias.usage.dead"
DELIVERY_LIMIT = 100


async def declare_topology(channel: AbstractChannel) -> AbstractExchange:
    """Declare every exchange and queue of the ledger; returns the exchange to publish to."""
    from aio_pika import ExchangeType

    dead = await channel.declare_exchange(DEAD_EXCHANGE, ExchangeType.FANOUT, durable=True)
    dead_queue = await channel.declare_queue(
        DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead_queue.bind(dead)
    exchange = await channel.declare_exchange(EXCHANGE, ExchangeType.DIRECT, durable=True)
    queue = await channel.declare_queue(
        QUEUE,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_EXCHANGE,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",  # required by at-least-once dead-lettering
        },
    )
    await queue.bind(exchange, ROUTING_KEY)
    return exchange
