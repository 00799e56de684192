"""Everything the control plane's handlers need, built once by the composition root."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from ias.kit.db import Database
from ias.kit.jwt import TokenIssuer
from ias.kit.notify import Notifier
from ias.kit.passwords import hash_password, verify_password
from ias.kit.throttle import Throttle
from ias.limits.types import Limiter
from ias.settings import Settings

ACCESS_TOKEN_ISSUER = "ias"  # noqa: S105 - a claim value, not a secret
ACCESS_TOKEN_AUDIENCE = "ias-api"  # noqa: S105 - a claim value, not a secret


@dataclass(slots=True)
class PasswordHashing:
    """argon2id in worker threads, a bounded number at a time.

    Each hash costs tens of milliseconds and 64 MiB; without the bound, a flood of logins
    would queue unbounded work and starve every other request of CPU and memory.
    """

    limit: int
    _slots: asyncio.Semaphore = field(init=False)
    _dummy_hash: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.limit)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(hash_password, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(verify_password, password_hash, password)

    async def verify_nobody(self, password: str) -> bool:
        """Spend what a real verification costs, for an email with no account; always False."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_hex(16))
        await self.verify(self._dummy_hash, password)
        return False


@dataclass(slots=True)
class ControlContext:
    settings: Settings
    db: Database
    notifier: Notifier
    throttle: Throttle
    tokens: TokenIssuer
    passwords: PasswordHashing
    limiter: Limiter | None = None  # reads consumption; absent in tools that need none


def build_control_context(
    settings: Settings,
    db: Database,
    notifier: Notifier,
    throttle: Throttle,
    limiter: Limiter | None = None,
) -> ControlContext:
    tokens = TokenIssuer(
        secret=settings.secret("jwt_secret"),
        issuer=ACCESS_TOKEN_ISSUER,
        audience=ACCESS_TOKEN_AUDIENCE,
        ttl=timedelta(seconds=settings.control.access_token_ttl_seconds),
    )
    passwords = PasswordHashing(settings.control.max_concurrent_password_hashes)
    return ControlContext(settings, db, notifier, throttle, tokens, passwords, limiter)
