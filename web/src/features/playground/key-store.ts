/**
 * The API key pasted into the playground, per organization: in this tab's memory only, never
 * in storage, and forgotten when the session ends (sign-out, or a session that could not be
 * renewed), so the next person at this browser does not inherit it.
 */
import { useCallback, useSyncExternalStore } from "react";

import { api } from "@/lib/api";

type Listener = () => void;

export class PlaygroundKeys {
  private readonly keys = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private unwatch: (() => void) | null = null;

  constructor(private readonly tokens: typeof api.tokens) {}

  get(orgId: string): string {
    return this.keys.get(orgId) ?? "";
  }

  set(orgId: string, key: string): void {
    if (key === "") this.keys.delete(orgId);
    else this.keys.set(orgId, key);
    // Watch the session only while there is something to forget.
    this.unwatch ??= this.tokens.subscribe(() => {
      if (this.tokens.get() === null) this.clear();
    });
    this.emit();
  }

  clear(): void {
    this.keys.clear();
    this.unwatch?.();
    this.unwatch = null;
    this.emit();
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

export const playgroundKeys = new PlaygroundKeys(api.tokens);

export function usePlaygroundKey(orgId: string): [string, (key: string) => void] {
  const key = useSyncExternalStore(playgroundKeys.subscribe, () => playgroundKeys.get(orgId));
  const setKey = useCallback((next: string) => playgroundKeys.set(orgId, next), [orgId]);
  return [key, setKey];
}
