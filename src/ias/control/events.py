"""Notifications that go out only once the change they announce is committed.

Publishing inside the transaction would race it: a router could hear "key revoked", reload
the key before the commit, and cache the old row for a whole TTL. So services queue messages
on the session and the unit of work publishes them after a successful commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ias.contracts.invalidation import KEYS_CHANNEL, Invalidation
from ias.kit.notify import Notifier

_QUEUE = "ias.after_commit"


def publish_after_commit(session: AsyncSession, channel: str, message: bytes) -> None:
    session.info.setdefault(_QUEUE, []).append((channel, message))


def invalidate_keys(session: AsyncSession, key_hashes: list[str]) -> None:
    if key_hashes:
        publish_after_commit(session, KEYS_CHANNEL, Invalidation(tuple(key_hashes)).encode())


async def flush_queue(session: AsyncSession, notifier: Notifier) -> None:
    for channel, message in session.info.pop(_QUEUE, []):
        await notifier.publish(channel, message)
