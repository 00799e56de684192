"""End to end through the router to a real vLLM server, with the `openai` SDK.

What a client sees (text, usage, the streaming usage chunk), what the ledger stores for it, and
the check that ties the two ends together: every token vLLM says it processed in the session is
billed, and nothing more (`vllm:prompt_tokens_total` and `vllm:generation_tokens_total` deltas
equal the sums of the ledger's rows for the vLLM backend).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from bench.vllm.engine import Counters, VllmServer
from bench.vllm.stack import PUBLIC_MODEL, Stack
from openai import OpenAI

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.rabbitmq,
    # The first test pays for vLLM's start (about 45 s on 2 cores) and the stack's.
    pytest.mark.timeout(600),
]

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
STORY = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a cat."}]


def test_chat_returns_text_and_usage(client: OpenAI, stack: Stack) -> None:
    before = stack.rows()
    answer = client.chat.completions.create(
        model=PUBLIC_MODEL, messages=QUESTION, max_tokens=48, temperature=0
    )
    assert answer.model == PUBLIC_MODEL  # the public name, not vLLM's served name
    text = answer.choices[0].message.content
    assert isinstance(text, str)
    assert text.strip()
    assert answer.choices[0].finish_reason in ("stop", "length")
    usage = answer.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 48
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    [row] = stack.new_rows(before, 1)
    assert str(row["backend_id"]) == stack.backend_id
    assert (row["prompt_tokens"], row["completion_tokens"]) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    assert (row["http_status"], row["stream"], row["partial"]) == (200, False, False)
    assert row["cost_micros"] > 0


def test_streaming_ends_with_a_usage_chunk(client: OpenAI, stack: Stack) -> None:
    before = stack.rows()
    stream = client.chat.completions.create(
        model=PUBLIC_MODEL,
        messages=QUESTION,
        max_tokens=48,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    *content, last = chunks
    text = "".join(chunk.choices[0].delta.content or "" for chunk in content if chunk.choices)
    assert text.strip()
    # Only the last chunk carries usage: the running usage the router asks vLLM for
    # (continuous_usage_stats) is not passed on to a client that did not ask for it.
    assert all(chunk.usage is None for chunk in content)
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens > 0
    assert 0 < last.usage.completion_tokens <= 48
    [row] = stack.new_rows(before, 1)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (
        last.usage.prompt_tokens,
        last.usage.completion_tokens,
    )
    assert (row["http_status"], row["stream"], row["partial"]) == (200, True, False)
    assert row["ttft_ms"] is not None


def test_a_client_that_leaves_mid_stream_pays_only_for_what_was_generated(
    client: OpenAI, stack: Stack, vllm: VllmServer
) -> None:
    wanted = 400  # about 20 s of generation on the CPU: far more than is read before leaving
    engine_before = vllm.wait_until_idle()
    before = stack.rows()
    stream = client.chat.completions.create(
        model=PUBLIC_MODEL,
        messages=STORY,
        max_tokens=wanted,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},  # vLLM's: no early stop, the stream must be cut
    )
    received = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
        if received == 5:
            break
    stream.close()
    [row] = stack.new_rows(before, 1)
    engine = vllm.wait_until_idle() - engine_before
    assert row["partial"] is True
    assert row["stream"] is True
    assert received <= row["completion_tokens"] < wanted
    assert row["prompt_tokens"] == engine.prompt
    # Billed: what vLLM generated for it before the router stopped it, not `max_tokens`.
    assert row["completion_tokens"] == engine.generation


def test_billed_tokens_equal_vllm_counters(
    client: OpenAI, stack: Stack, vllm: VllmServer, baseline: Counters
) -> None:
    """After a concurrent mix of plain and streaming requests, the ledger for the vLLM backend
    holds exactly the tokens vLLM counted since the session's first request."""

    def plain(index: int) -> None:
        client.chat.completions.create(
            model=PUBLIC_MODEL,
            messages=[{"role": "user", "content": f"Name {index + 2} colours."}],
            max_tokens=24,
        )

    def streamed(index: int) -> None:
        chunks = client.chat.completions.create(
            model=PUBLIC_MODEL,
            messages=[{"role": "user", "content": f"Count from 1 to {index + 5}."}],
            max_tokens=24,
            stream=True,
            stream_options={"include_usage": True} if index % 2 else None,
        )
        assert list(chunks)

    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(plain, i) for i in range(4)]
        jobs += [pool.submit(streamed, i) for i in range(4)]
        for job in jobs:
            job.result()
    engine = vllm.wait_until_idle() - baseline
    rows = stack.settle()
    count, prompt, completion = stack.billed()
    assert count == rows  # every row of the session went to the one vLLM backend
    assert (prompt, completion) == (engine.prompt, engine.generation)


def test_ias_admin_reconcile_finds_no_drift_against_real_vllm(
    client: OpenAI, stack: Stack, vllm: VllmServer
) -> None:
    """The operator's check (`ias-admin usage reconcile`, which parses vLLM's real /metrics)
    agrees: zero drift over the engine's whole life, which this session's ledger covers."""
    client.chat.completions.create(model=PUBLIC_MODEL, messages=QUESTION, max_tokens=8)
    vllm.wait_until_idle()
    stack.settle()
    report = json.loads(stack.admin("usage", "reconcile", "--since", "1h", "--json"))
    assert report["ok"] is True
    [backend] = report["backends"]
    assert backend["verdict"] == "ok"
    assert backend["backend_ids"] == [stack.backend_id]
    assert backend["served_model"] == "smollm2"
    assert backend["ledger"] == backend["engine"]
    assert backend["engine"]["completion_tokens"] > 0
