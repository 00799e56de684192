"""Serving a prepared `Job`: admission, pacing, failure injection, token accounting.

The fast path (nothing to wait for, a free slot, not streamed) sends the body without creating a
task or sleeping: that is the benchmark mode. Everything else runs under a `DisconnectWatch`,
so a client that goes away stops the request at once and is recorded as `disconnected`.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Send

from ias.engine.asgi import EVENT_STREAM, JSON, Headers, send_error, send_start, send_whole
from ias.engine.cancellation import DisconnectWatch
from ias.engine.errors import injected_failure
from ias.engine.gate import Gate
from ias.engine.job import Job, StreamFormat
from ias.engine.metrics import EngineMetrics, ModelMetrics
from ias.engine.tokenlog import RequestStatus, TokenRecord


class EngineDied(Exception):
    """Raised on purpose mid-response so the server drops the connection (`die_after`)."""


def _raise_if_dropped(send: Send) -> None:
    """Raise, as servers that follow ASGI 2.4 do, when what was just sent went nowhere.

    uvicorn's `send` returns without a word once its connection is closing: its transport
    drops writes from the moment it closes (when the client's end of the stream arrives), a
    loop turn before the server marks the request disconnected. Looking at both is the only
    way to count just the chunks that really went out. (Under servers that raise OSError
    themselves, neither attribute is there.)"""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    closing = transport is not None and transport.is_closing()
    if closing or getattr(cycle, "disconnected", False) is True:
        raise ConnectionResetError("the client went away; the chunk was not sent")


async def _hang(record: TokenRecord) -> None:
    """Stall until cancelled, as a wedged engine would; only the client leaving ends it."""
    record.status = RequestStatus.HUNG
    await asyncio.get_running_loop().create_future()


def _die(record: TokenRecord) -> EngineDied:
    record.finish(RequestStatus.DIED)
    return EngineDied(f"injected failure: request {record.request_id} dies mid-response")


async def _pause(seconds: float) -> None:
    await asyncio.sleep(seconds)
    # One more turn of the loop lets a disconnect that arrived during the sleep cancel us
    # before we write a chunk the client will never read.
    await asyncio.sleep(0)


class Runner:
    def __init__(self, gate: Gate, metrics: EngineMetrics) -> None:
        self._gate = gate
        self._metrics = metrics

    async def run(
        self, job: Job, record: TokenRecord, receive: Receive, send: Send, headers: Headers
    ) -> None:
        try:
            if job.behaviour.fail_status is not None:
                await self._fail(job.behaviour.fail_status, record, send, headers)
            elif job.stream is None and job.behaviour.instant and self._gate.try_enter():
                await self._respond_now(job, record, send, headers)
            else:
                await self._run_watched(job, record, receive, send, headers)
        except OSError:
            # ASGI servers may raise OSError from `send` once the client has gone.
            record.finish(RequestStatus.DISCONNECTED)

    async def _fail(self, status: int, record: TokenRecord, send: Send, headers: Headers) -> None:
        record.http_status = status
        record.finish(RequestStatus.FAILED)
        await send_error(send, injected_failure(status), headers)

    async def _respond_now(
        self, job: Job, record: TokenRecord, send: Send, headers: Headers
    ) -> None:
        """The benchmark path: a slot is free and nothing waits, so no task, no sleep."""
        metrics = self._metrics.model(job.model)
        metrics.running.inc()
        metrics.prompt_tokens.inc(job.prompt_tokens)
        try:
            await self._send_body(job, record, send, headers, metrics)
        finally:
            self._leave(metrics)

    def _leave(self, metrics: ModelMetrics) -> None:
        self._gate.leave()
        metrics.running.dec()

    async def _admit(self, metrics: ModelMetrics) -> None:
        if not self._gate.try_enter():
            metrics.waiting.inc()
            try:
                await self._gate.enter()
            finally:
                metrics.waiting.dec()
        metrics.running.inc()

    async def _run_watched(
        self, job: Job, record: TokenRecord, receive: Receive, send: Send, headers: Headers
    ) -> None:
        metrics = self._metrics.model(job.model)
        watch = DisconnectWatch(receive)
        try:
            await self._admit(metrics)
            try:
                metrics.prompt_tokens.inc(job.prompt_tokens)
                if job.behaviour.prompt_delay:
                    await _pause(job.behaviour.prompt_delay)
                if job.stream is not None:
                    await self._stream(job, job.stream, record, send, headers, metrics)
                else:
                    await self._respond_later(job, record, send, headers, metrics)
            finally:
                self._leave(metrics)
        except asyncio.CancelledError:
            if not watch.absorb():
                raise
            hung = record.status is RequestStatus.HUNG
            record.finish(RequestStatus.HUNG if hung else RequestStatus.DISCONNECTED)
        finally:
            watch.stop()

    async def _send_body(
        self, job: Job, record: TokenRecord, send: Send, headers: Headers, metrics: ModelMetrics
    ) -> None:
        await send_whole(send, 200, job.render(), headers)
        _raise_if_dropped(send)
        record.completion_tokens = job.completion_tokens
        metrics.generation_tokens.inc(record.completion_tokens)
        record.finish(RequestStatus.COMPLETED)

    async def _respond_later(
        self, job: Job, record: TokenRecord, send: Send, headers: Headers, metrics: ModelMetrics
    ) -> None:
        """A response that is not streamed: wait as long as generating would take, then send."""
        behaviour = job.behaviour
        failing_after = (
            behaviour.die_after if behaviour.hang_after is None else behaviour.hang_after
        )
        steps = job.steps if failing_after is None else min(failing_after, job.steps)
        if behaviour.token_delay and steps:
            await _pause(behaviour.token_delay * steps)
        if behaviour.hang_after is not None:
            await _hang(record)
        if behaviour.die_after is not None:
            # Headers promise the whole body; the connection then drops before any of it.
            length = (b"content-length", str(len(job.render())).encode())
            await send_start(send, 200, JSON, [length, *headers])
            raise _die(record)
        await self._send_body(job, record, send, headers, metrics)

    async def _stream(
        self,
        job: Job,
        stream: StreamFormat,
        record: TokenRecord,
        send: Send,
        headers: Headers,
        metrics: ModelMetrics,
    ) -> None:
        behaviour = job.behaviour
        await send_start(send, 200, EVENT_STREAM, headers)
        for chunk in stream.opening():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        for step in range(job.steps):
            if step and behaviour.token_delay:
                await _pause(behaviour.token_delay)
            for choice in job.choices:
                if step >= len(choice.tokens):
                    continue
                await self._fail_if_due(record, behaviour.die_after, behaviour.hang_after)
                chunk = stream.token_chunk(choice, step)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                _raise_if_dropped(send)
                record.completion_tokens += 1
                metrics.generation_tokens.inc()
        await self._fail_if_due(record, behaviour.die_after, behaviour.hang_after, at_end=True)
        closing = stream.closing(record.completion_tokens)
        await send({"type": "http.response.body", "body": closing, "more_body": False})
        record.finish(RequestStatus.COMPLETED)

    async def _fail_if_due(
        self,
        record: TokenRecord,
        die_after: int | None,
        hang_after: int | None,
        at_end: bool = False,
    ) -> None:
        """Die or hang once the injected number of token chunks is out (or all of them are)."""
        sent = record.completion_tokens
        if die_after is not None and (at_end or sent >= die_after):
            raise _die(record)
        if hang_after is not None and (at_end or sent >= hang_after):
            await _hang(record)
