import { describe, expect, it } from "vitest";

import { readSse, SseParser, type SseEvent } from "./sse";

const STREAM =
  'data: {"choices":[{"delta":{"content":"Hé"}}]}\n\n' +
  ": keep-alive\n\n" +
  'data: {"choices":[{"delta":{"content":" là"}}]}\r\n\r\n' +
  "event: error\ndata: {\"error\":{\"message\":\"Upstream failed.\"}}\n\n" +
  "data: first line\ndata: second line\rid: 7\r\r" +
  "data: [DONE]\n\n";

const EXPECTED: SseEvent[] = [
  { event: "message", data: '{"choices":[{"delta":{"content":"Hé"}}]}' },
  { event: "message", data: '{"choices":[{"delta":{"content":" là"}}]}' },
  { event: "error", data: '{"error":{"message":"Upstream failed."}}' },
  { event: "message", data: "first line\nsecond line", id: "7" },
  // The last event id carries over, as the spec has it.
  { event: "message", data: "[DONE]", id: "7" },
];

function parseInPieces(pieces: string[]): SseEvent[] {
  const parser = new SseParser();
  return pieces.flatMap((piece) => parser.push(piece));
}

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readSse(body)) events.push(event);
  return events;
}

describe("SseParser", () => {
  it("reads a whole stream at once", () => {
    expect(parseInPieces([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events wherever the stream is cut in two", () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(parseInPieces([STREAM.slice(0, cut), STREAM.slice(cut)]), `cut at ${cut}`).toEqual(
        EXPECTED,
      );
    }
  });

  it("gives the same events one character at a time", () => {
    expect(parseInPieces([...STREAM])).toEqual(EXPECTED);
  });

  it("hands out an event only once its blank line has arrived", () => {
    const parser = new SseParser();
    expect(parser.push("data: [DO")).toEqual([]);
    expect(parser.push("NE]\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "message", data: "[DONE]" }]);
  });

  it("drops an event cut off by the end of the stream", () => {
    const parser = new SseParser();
    expect(parser.push('data: {"partial": tr')).toEqual([]);
    expect(parser.end()).toEqual([]);
    expect(parser.push("data: next\n\n")).toEqual([{ event: "message", data: "next" }]);
  });

  it("keeps a value's spaces after the first one, and takes a field without a colon", () => {
    expect(parseInPieces(["data:  two spaces\ndata\n\n"])).toEqual([
      { event: "message", data: " two spaces\n" },
    ]);
  });

  it("ignores an event name without data", () => {
    expect(parseInPieces(["event: ping\n\ndata: x\n\n"])).toEqual([
      { event: "message", data: "x" },
    ]);
  });
});

describe("readSse", () => {
  it("decodes a character split across two network chunks", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const at = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const events = await collect(bodyOf([bytes.slice(0, at), bytes.slice(at)]));
    expect(events).toEqual(EXPECTED);
  });

  it("reads byte by byte", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const events = await collect(bodyOf([...bytes].map((b) => Uint8Array.of(b))));
    expect(events).toEqual(EXPECTED);
  });

  it("cancels the body when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: one\n\ndata: two\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of readSse(body)) {
      expect(event.data).toBe("one");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
