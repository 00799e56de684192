"""The limiter's pipelined Redis client against real redis-servers: replies stay matched to
their callers whatever fails, a stuck or stopped server fails fast, and recovery needs no restart.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import redis.asyncio as redis_asyncio
import uvloop

from ias.limits.resp import NoScriptError, PipelinedRedis, ReplyError
from tests.conftest import REDIS_URL
from tests.integration.limits.own_redis import OwnRedis


async def test_concurrent_commands_share_one_connection_and_get_their_own_replies() -> None:
    client = PipelinedRedis.from_url(REDIS_URL, timeout_seconds=5)
    try:
        replies = await asyncio.gather(*(client.execute("ECHO", f"r{i}") for i in range(2000)))
        assert replies == [f"r{i}".encode() for i in range(2000)]
        info = await client.execute("CLIENT", "INFO")
        assert b"cmd=client|info" in info
    finally:
        await client.aclose()


async def test_an_error_reply_fails_only_its_own_command() -> None:
    client = PipelinedRedis.from_url(REDIS_URL, timeout_seconds=5)
    try:
        results = await asyncio.gather(
            client.execute("ECHO", "before"),
            client.execute("NOSUCHCOMMAND"),
            client.execute("EVALSHA", "0" * 40, 0),
            client.execute("ECHO", "after"),
            return_exceptions=True,
        )
        assert results[0] == b"before"
        assert results[3] == b"after"
        assert type(results[1]) is ReplyError
        assert "unknown command" in str(results[1])
        assert isinstance(results[2], NoScriptError)
    finally:
        await client.aclose()


async def test_a_caller_that_gives_up_does_not_shift_the_replies_of_the_others() -> None:
    client = PipelinedRedis.from_url(REDIS_URL, timeout_seconds=5)
    try:
        abandoned = asyncio.ensure_future(client.execute("ECHO", "abandoned"))
        await asyncio.sleep(0)  # connecting
        slow = asyncio.ensure_future(client.execute("ECHO", "slow"))
        abandoned.cancel()
        assert await client.execute("ECHO", "mine") == b"mine"
        assert await slow == b"slow"
        assert abandoned.cancelled()
    finally:
        await client.aclose()


async def test_a_paused_server_fails_every_waiting_command_within_the_timeout(
    own_redis: OwnRedis,
) -> None:
    client = PipelinedRedis.from_url(own_redis.url, timeout_seconds=0.2)
    try:
        assert await client.execute("PING") == b"PONG"
        own_redis.pause()
        started = time.monotonic()
        results = await asyncio.gather(
            *(client.execute("INCR", "counter") for _ in range(50)), return_exceptions=True
        )
        assert all(isinstance(result, TimeoutError) for result in results)
        assert time.monotonic() - started < 1.0
        own_redis.resume()
        assert await client.execute("PING") == b"PONG"  # a new connection, no restart
    finally:
        await client.aclose()


async def test_a_stopped_server_fails_fast_and_is_used_again_once_back(
    own_redis: OwnRedis,
) -> None:
    client = PipelinedRedis.from_url(own_redis.url, timeout_seconds=0.5)
    try:
        assert await client.execute("SET", "k", "v") is not None
        own_redis.stop()
        for _ in range(3):  # each attempt fails on its own, nothing hangs
            with pytest.raises(ConnectionError):
                await client.execute("GET", "k")
        own_redis.start()
        assert await client.execute("PING") == b"PONG"
    finally:
        await client.aclose()


async def test_password_and_database_come_from_the_url(tmp_path: Path) -> None:
    server = OwnRedis(tmp_path, password="s3cret/pw")
    server.start()
    good = PipelinedRedis.from_url(
        f"redis://:s3cret%2Fpw@127.0.0.1:{server.port}/2", timeout_seconds=2
    )
    wrong = PipelinedRedis.from_url(f"redis://:nope@127.0.0.1:{server.port}/2", timeout_seconds=2)
    probe = redis_asyncio.Redis(port=server.port, password="s3cret/pw", db=2)
    try:
        await good.execute("SET", "where", "db2")
        assert await probe.get("where") == b"db2"
        with pytest.raises(ReplyError, match=r"WRONGPASS|invalid"):
            await wrong.execute("PING")
    finally:
        await good.aclose()
        await wrong.aclose()
        await probe.aclose()
        server.stop()


async def test_a_closed_client_refuses_commands() -> None:
    client = PipelinedRedis.from_url(REDIS_URL, timeout_seconds=2)
    assert await client.execute("PING") == b"PONG"
    await client.aclose()
    with pytest.raises(ConnectionError, match="closed"):
        await client.execute("PING")


# Redis takes 20 ms to answer this, so the reply arrives while the loop is busy elsewhere.
SLOW_ECHO = """
local start = redis.call('TIME')
repeat
  local now = redis.call('TIME')
until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > 20000
return ARGV[1]
"""


def test_the_client_runs_on_uvloop_as_the_router_does() -> None:
    """uvloop's transports are not asyncio's classes, and uvloop fires due timers before it
    reads sockets: a reply that arrived while the loop was stuck past the timeout (here in
    another socket's callback) must still be read, not taken for a dead server."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        client = PipelinedRedis.from_url(REDIS_URL, timeout_seconds=0.05)
        busy, trigger = socket.socketpair()
        loop.add_reader(busy, lambda: (busy.recv(1), time.sleep(0.12)))
        try:
            assert await client.execute("PING") == b"PONG"
            reply = asyncio.ensure_future(client.execute("EVAL", SLOW_ECHO, 0, "late"))
            await asyncio.sleep(0.005)  # sent; Redis is working on it
            threading.Timer(0.002, trigger.send, (b"x",)).start()
            assert await reply == b"late"
        finally:
            loop.remove_reader(busy)
            busy.close()
            trigger.close()
            await client.aclose()

    uvloop.run(scenario())
