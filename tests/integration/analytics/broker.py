"""Publishing usage messages and reading queue depths, as a router and an operator would."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import aio_pika

from ias.contracts.ledger_topology import DEAD_QUEUE, QUEUE, ROUTING_KEY, declare_topology
from ias.contracts.usage import BATCH_CONTENT_TYPE


async def publish(amqp_url: str, bodies: Sequence[bytes]) -> list[str]:
    """Publish persistent messages with confirms; returns their message ids."""
    connection = await aio_pika.connect(amqp_url)
    ids = []
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_topology(channel)
        for body in bodies:
            message_id = uuid.uuid4().hex
            await exchange.publish(
                aio_pika.Message(
                    body,
                    content_type=BATCH_CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=message_id,
                ),
                routing_key=ROUTING_KEY,
            )
            ids.append(message_id)
    finally:
        await connection.close()
    return ids


async def queue_depths(amqp_url: str) -> tuple[int, int]:
    """Messages ready in the ledger's queue and in its dead-letter queue."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await declare_topology(channel)
        depths = []
        for name in (QUEUE, DEAD_QUEUE):
            queue = await channel.declare_queue(name, passive=True)
            depths.append(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()
    return depths[0], depths[1]


async def dead_lettered_ids(amqp_url: str) -> list[str]:
    """Take every message out of the dead-letter queue; returns their message ids."""
    connection = await aio_pika.connect(amqp_url)
    ids = []
    try:
        channel = await connection.channel()
        await declare_topology(channel)
        queue = await channel.declare_queue(DEAD_QUEUE, passive=True)
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            ids.append(message.message_id or "")
    finally:
        await connection.close()
    return ids
