"""Publishing usage batches to a real RabbitMQ: confirmed means queued, durably, once per call;
a broker that cannot take them makes the call fail, so the spool keeps them."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from ias.contracts.ledger_topology import QUEUE
from ias.contracts.usage import BATCH_CONTENT_TYPE
from ias.router.publisher import RabbitPublisher


async def queued(url: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(QUEUE)
        messages = []
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            messages.append(message)
        return messages
    finally:
        await connection.close()


async def test_confirmed_batches_are_in_the_quorum_queue(amqp_url: str) -> None:
    publisher = RabbitPublisher(amqp_url)
    bodies = [f"batch {n}".encode() for n in range(50)]
    try:
        await asyncio.gather(*(publisher.publish(body, 1) for body in bodies))  # all in flight
    finally:
        await publisher.close()
    messages = await queued(amqp_url)
    assert sorted(m.body for m in messages) == sorted(bodies)
    assert {m.delivery_mode for m in messages} == {aio_pika.DeliveryMode.PERSISTENT}
    assert {m.content_type for m in messages} == {BATCH_CONTENT_TYPE}
    assert {m.headers["events"] for m in messages} == {1}


async def test_an_unreachable_broker_fails_the_call(amqp_url: str) -> None:
    publisher = RabbitPublisher("amqp://guest:guest@127.0.0.1:1/", connect_seconds=1)
    with pytest.raises((ConnectionError, OSError)):
        await publisher.publish(b"lost?", 1)
    await publisher.close()


async def test_a_refused_publish_fails_and_the_next_one_reconnects(amqp_url: str) -> None:
    publisher = RabbitPublisher(amqp_url)
    try:
        await publisher.publish(b"first", 1)
        # The broker drops the connection (as when it stops): the next call opens a new one.
        connection = publisher._connection
        assert connection is not None
        await connection.close()
        await publisher.publish(b"second", 1)
    finally:
        await publisher.close()
    assert sorted(m.body for m in await queued(amqp_url)) == [b"first", b"second"]
