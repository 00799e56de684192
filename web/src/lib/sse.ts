/**
 * Server-sent events, read from a `fetch` body (`EventSource` cannot send an `Authorization`
 * header or a POST body, so the playground streams with `fetch`).
 *
 * The network splits the stream wherever it likes: in the middle of a line, between `\r` and
 * `\n`, inside a multi-byte character. The parser keeps the unfinished tail of each chunk and
 * only hands out events once their blank line has arrived, as the WHATWG spec describes.
 */

export type SseEvent = {
  /** The `event:` field; "message" when the server named none. */
  event: string;
  /** The `data:` lines, joined with "\n". */
  data: string;
  id?: string;
};

/** Feeds text in, gets whole events out. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  /** A chunk ended in `\r`: a `\n` starting the next one belongs to the same line break. */
  private pendingCr = false;

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;

    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== "\n" && char !== "\r") continue;
      const line = this.buffer.slice(start, i);
      if (char === "\r") {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The stream ended: an event without its closing blank line is dropped, as browsers do. */
  end(): SseEvent[] {
    this.buffer = "";
    this.data = [];
    this.event = "";
    this.pendingCr = false;
    return [];
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment, often a keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    if (this.data.length === 0) {
      this.event = "";
      return null;
    }
    const event: SseEvent = { event: this.event || "message", data: this.data.join("\n") };
    if (this.id !== undefined) event.id = this.id;
    this.data = [];
    this.event = "";
    return event;
  }
}

/** The events of a response body, as they arrive. Stops early when the caller breaks out. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    parser.end();
  } finally {
    // Cancels the request when the caller stops reading before the end.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
