import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "@/lib/api";

import { refusalTitle, streamChat } from "./stream";
import { useChat } from "./use-chat";

const URL_ = "http://ias.test/v1/chat/completions";

function chunk(content: string) {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}
const USAGE = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n`;
const FINISH = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`;

/** A streamed response whose pieces are released one by one by `next()`. */
function controlledStream() {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
    /** What a browser does to the body of a fetch whose signal is aborted. */
    abort: () => controller.error(new DOMException("The user aborted a request.", "AbortError")),
  };
}

function envelope(status: number, message: string, type: string, code: string | null = null) {
  return new Response(JSON.stringify({ error: { message, type, param: null, code } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

describe("useChat", () => {
  it("shows the answer as it streams in, then the token counts", async () => {
    const stream = controlledStream();
    const fetchMock = vi.fn(async () => stream.response);
    const { result } = renderHook(() => useChat(URL_, fetchMock as unknown as typeof fetch));

    act(() => {
      void result.current.send("Hello?", { apiKey: "ias_secret", model: "demo-chat" });
    });
    expect(result.current.streaming).toBe(true);

    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(URL_);
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer ias_secret");
    expect(JSON.parse(init.body as string)).toMatchObject({
      model: "demo-chat",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Hello?" }],
    });

    // A chunk split in the middle of its JSON still arrives whole.
    const first = chunk("Hi");
    stream.push(first.slice(0, 10));
    stream.push(first.slice(10));
    await waitFor(() => expect(result.current.turns[1]?.content).toBe("Hi"));
    stream.push(chunk(" there"));
    await waitFor(() => expect(result.current.turns[1]?.content).toBe("Hi there"));
    expect(result.current.turns[1]?.outcome).toBeUndefined();

    stream.push(FINISH + USAGE + "data: [DONE]\n\n");
    stream.close();
    await waitFor(() => expect(result.current.streaming).toBe(false));
    const answer = result.current.turns[1]!;
    expect(answer.outcome?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(answer.outcome?.finishReason).toBe("stop");
    expect(answer.outcome?.stopped).toBe(false);
    expect(answer.error).toBeUndefined();
  });

  it("stops where the answer is when asked", async () => {
    const stream = controlledStream();
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      init.signal?.addEventListener("abort", stream.abort);
      return stream.response;
    });
    const { result } = renderHook(() => useChat(URL_, fetchMock as unknown as typeof fetch));
    act(() => {
      void result.current.send("Long story?", { apiKey: "k", model: "demo-chat" });
    });
    stream.push(chunk("Once"));
    await waitFor(() => expect(result.current.turns[1]?.content).toBe("Once"));

    act(() => result.current.stop());
    await waitFor(() => expect(result.current.streaming).toBe(false));
    expect(result.current.turns[1]?.content).toBe("Once");
    expect(result.current.turns[1]?.outcome?.stopped).toBe(true);
  });

  it("shows a refused key in words, and leaves the failed turn out of the next request", async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(envelope(401, "Incorrect API key provided.", "authentication_error", "invalid_api_key"))
      .mockResolvedValueOnce(new Response(chunk("ok") + "data: [DONE]\n\n", { status: 200 }));
    const { result } = renderHook(() => useChat(URL_, fetchMock as unknown as typeof fetch));

    await act(() => result.current.send("First", { apiKey: "revoked", model: "demo-chat" }));
    expect(result.current.turns[1]?.error).toEqual({
      title: "The API key was refused",
      message: "Incorrect API key provided.",
    });

    await act(() => result.current.send("Second", { apiKey: "good", model: "demo-chat" }));
    const body = JSON.parse((fetchMock.mock.calls[1] as [string, RequestInit])[1].body as string);
    expect(body.messages).toEqual([
      { role: "user", content: "First" },
      { role: "user", content: "Second" },
    ]);
    expect(result.current.turns[3]?.content).toBe("ok");
  });
});

describe("streamChat", () => {
  it("turns an error event in the middle of the stream into the server's message", async () => {
    const body =
      chunk("Part") +
      `data: ${JSON.stringify({ error: { message: "The backend went away.", type: "upstream_error", param: null, code: null } })}\n\n`;
    const seen: string[] = [];
    const run = streamChat({
      url: URL_,
      apiKey: "k",
      model: "demo-chat",
      messages: [{ role: "user", content: "Hi" }],
      onText: (t) => seen.push(t),
      fetch: async () => new Response(body, { status: 200 }),
    });
    await expect(run).rejects.toThrow("The backend went away.");
    expect(seen).toEqual(["Part"]);
  });

  it("says what a 429 without an envelope means, and titles refusals by status", async () => {
    const run = streamChat({
      url: URL_,
      apiKey: "k",
      model: "demo-chat",
      messages: [],
      onText: () => {},
      fetch: async () => new Response("slow down", { status: 429 }),
    });
    await expect(run).rejects.toMatchObject({ status: 429, message: "Too many requests. Wait a moment and try again." });
    expect(refusalTitle(new ApiError("x", 429))).toBe("Limit reached");
    expect(refusalTitle(new ApiError("x", 0))).toBe("No answer");
  });
});
