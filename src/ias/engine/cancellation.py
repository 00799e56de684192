"""Stop serving the moment the client goes away, as vLLM's `with_cancellation` does.

A side task waits on `receive()` for `http.disconnect` and cancels the serving task, so a
request sleeping between tokens, waiting for a slot or hanging on purpose stops at once. The
serving task tells this cancellation from any other (a server shutting down) by `disconnected`.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive


class DisconnectWatch:
    def __init__(self, receive: Receive) -> None:
        self.disconnected = False
        self._finished = False
        target = asyncio.current_task()
        assert target is not None, "a request is always served inside a task"
        self._target = target
        self._watcher = asyncio.create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # After the response ends some servers report a disconnect; that one is no news.
                if not self._finished:
                    self.disconnected = True
                    self._target.cancel()
                return

    def absorb(self) -> bool:
        """In the serving task's `except CancelledError`: True if the cancellation was ours,
        which is then taken back so the task can record the outcome and return normally."""
        if not self.disconnected:
            return False
        self._target.uncancel()
        return True

    def stop(self) -> None:
        self._finished = True
        self._watcher.cancel()
