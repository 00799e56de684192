"""Control-plane bearer tokens for tests that need one outside the control app's fixtures."""

from __future__ import annotations

import uuid
from datetime import timedelta

from ias.control.context import build_control_context
from ias.kit.clock import utcnow
from ias.kit.db import Database
from ias.kit.ids import uuid7
from ias.kit.notify import MemoryNotifier
from ias.kit.throttle import MemoryThrottle
from ias.models import RefreshSession
from ias.settings import Settings


async def access_token(settings: Settings, user_id: uuid.UUID) -> str:
    """A bearer token for `user_id`, backed by a live session row as a real sign-in leaves."""
    db = Database.from_url(settings.effective_database_url)
    context = build_control_context(settings, db, MemoryNotifier(), MemoryThrottle())
    family, now = uuid7(), utcnow()
    try:
        async with db.unit_of_work() as session:
            session.add(
                RefreshSession(
                    id=uuid7(),
                    user_id=user_id,
                    family_id=family,
                    token_hash=uuid.uuid4().hex,
                    created_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            )
    finally:
        await db.dispose()
    token, _ = context.tokens.issue(str(user_id), str(family), now)
    return token
