import { useCallback, useEffect, useRef, useState } from "react";

import { errorMessage } from "@/lib/api";

import { refusalTitle, streamChat, type ChatMessage, type StreamOutcome } from "./stream";

export type Turn = {
  id: number;
  role: "user" | "assistant";
  content: string;
  model?: string;
  /** Set on an assistant turn once its stream ended (or was stopped). */
  outcome?: StreamOutcome;
  error?: { title: string; message: string };
};

export type SendOptions = { apiKey: string; model: string };

/**
 * A chat transcript streamed from `/v1/chat/completions`: `send` adds the question and an
 * answer that grows as tokens arrive; `stop` ends the answer where it is. Failed turns are
 * kept on screen but left out of the history sent next time.
 */
export function useChat(url: string, fetchImpl?: typeof globalThis.fetch) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [streaming, setStreaming] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const nextId = useRef(1);

  useEffect(() => () => controller.current?.abort(), []);

  const update = useCallback((id: number, change: (turn: Turn) => Turn) => {
    setTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)));
  }, []);

  const send = useCallback(
    async (text: string, { apiKey, model }: SendOptions) => {
      if (controller.current) return;
      const history: ChatMessage[] = turns
        .filter((turn) => !turn.error && turn.content !== "")
        .map((turn) => ({ role: turn.role, content: turn.content }));
      const question: Turn = { id: nextId.current++, role: "user", content: text };
      const answer: Turn = { id: nextId.current++, role: "assistant", content: "", model };
      setTurns((all) => [...all, question, answer]);

      const abort = new AbortController();
      controller.current = abort;
      setStreaming(true);
      try {
        const outcome = await streamChat({
          url,
          apiKey,
          model,
          messages: [...history, { role: "user", content: text }],
          signal: abort.signal,
          onText: (piece) => update(answer.id, (turn) => ({ ...turn, content: turn.content + piece })),
          fetch: fetchImpl,
        });
        update(answer.id, (turn) => ({ ...turn, outcome }));
      } catch (error) {
        update(answer.id, (turn) => ({
          ...turn,
          error: { title: refusalTitle(error), message: errorMessage(error) },
        }));
      } finally {
        controller.current = null;
        setStreaming(false);
      }
    },
    [turns, url, update, fetchImpl],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const clear = useCallback(() => {
    controller.current?.abort();
    setTurns([]);
  }, []);

  return { turns, streaming, send, stop, clear };
}
