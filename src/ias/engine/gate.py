"""At most `capacity` requests generate at once; the others wait their turn, first come first.

Like a GPU's batch: a request holds its slot from prompt processing to its last token. The
gate hands a freed slot straight to the oldest waiter, and a waiter that is cancelled (its
client went away) either leaves the queue or passes on the slot it was just given.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Gate:
    def __init__(self, capacity: int) -> None:
        self._free = capacity
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_enter(self) -> bool:
        """Take a slot without waiting, if one is free and nobody is queued for it."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def enter(self) -> None:
        if self.try_enter():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # the slot arrived as we were cancelled: hand it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def leave(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter without becoming free
                return
        self._free += 1
