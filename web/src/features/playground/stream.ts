/**
 * One streamed chat completion against the OpenAI-compatible API (`POST /v1/chat/completions`
 * with `stream: true`), read with `fetch` so it can carry the API key and be stopped.
 */
import { ApiError, isErrorEnvelope, networkError } from "@/lib/api";
import { readSse } from "@/lib/sse";

export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: string };
export type TokenUsage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

export type StreamOutcome = {
  /** Null when the server sent no usage chunk (or the reply was stopped before it). */
  usage: TokenUsage | null;
  finishReason: string | null;
  /** From sending to the first piece of text, and to the end, in milliseconds. */
  firstTokenMs: number | null;
  totalMs: number;
  /** The person pressed stop. */
  stopped: boolean;
};

export type StreamRequest = {
  url: string;
  apiKey: string;
  model: string;
  messages: ChatMessage[];
  signal?: AbortSignal;
  onText: (text: string) => void;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
};

type Chunk = {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: TokenUsage | null;
  error?: unknown;
};

/** Errors of `/v1` when the body is not the usual envelope: said for an API key, not a session. */
const FALLBACK: Record<number, string> = {
  401: "The API key was not accepted.",
  403: "This API key may not do this.",
  404: "Not found: check the model name.",
  429: "Too many requests. Wait a moment and try again.",
};

async function refusal(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: a proxy's page, say. The status speaks for it.
  }
  if (isErrorEnvelope(body)) {
    const { message, type, code, param } = body.error;
    return new ApiError(message, response.status, type, code, param);
  }
  const message =
    FALLBACK[response.status] ??
    (response.status >= 500
      ? `The model could not answer (HTTP ${response.status}). Try again in a moment.`
      : `The request was refused (HTTP ${response.status}).`);
  return new ApiError(message, response.status);
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof DOMException && error.name === "AbortError");
}

/** Streams the reply, calling `onText` with each new piece; throws an `ApiError` if refused. */
export async function streamChat(request: StreamRequest): Promise<StreamOutcome> {
  const doFetch = request.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = request.now ?? (() => performance.now());
  const started = now();
  const outcome: StreamOutcome = { usage: null, finishReason: null, firstTokenMs: null, totalMs: 0, stopped: false };
  const finish = () => ({ ...outcome, totalMs: Math.round(now() - started) });

  let response: Response;
  try {
    response = await doFetch(request.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${request.apiKey}`,
      },
      body: JSON.stringify({
        model: request.model,
        messages: request.messages,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: request.signal,
    });
  } catch (error) {
    if (isAbort(error, request.signal)) return { ...finish(), stopped: true };
    throw networkError(error);
  }
  if (!response.ok) throw await refusal(response);
  if (!response.body) throw new ApiError("The server answered without a body.", response.status);

  try {
    for await (const event of readSse(response.body)) {
      if (event.data === "[DONE]") break;
      let chunk: Chunk;
      try {
        chunk = JSON.parse(event.data) as Chunk;
      } catch {
        throw new ApiError("The server sent a piece of the answer that is not JSON.", response.status);
      }
      if (event.event === "error" || chunk.error !== undefined) {
        const envelope = { error: chunk.error };
        throw isErrorEnvelope(envelope)
          ? new ApiError(envelope.error.message, response.status, envelope.error.type, envelope.error.code)
          : new ApiError("The answer stopped with an error.", response.status);
      }
      for (const choice of chunk.choices ?? []) {
        const text = choice.delta?.content;
        if (text) {
          outcome.firstTokenMs ??= Math.round(now() - started);
          request.onText(text);
        }
        if (choice.finish_reason) outcome.finishReason = choice.finish_reason;
      }
      if (chunk.usage) outcome.usage = chunk.usage;
    }
  } catch (error) {
    if (isAbort(error, request.signal)) return { ...finish(), stopped: true };
    if (error instanceof ApiError) throw error;
    throw new ApiError("The connection broke before the answer was complete.", 0);
  }
  return finish();
}

/** A heading for a refusal, so "401" reads as what it means here. */
export function refusalTitle(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong";
  if (error.status === 0) return "No answer";
  if (error.status === 401) return "The API key was refused";
  if (error.status === 403) return "Not allowed";
  if (error.status === 404) return "Not found";
  if (error.status === 429) return "Limit reached";
  if (error.status >= 500) return "The model failed";
  if (error.status === 200) return "The answer stopped";
  return "The request was refused";
}
