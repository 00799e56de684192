import { useCallback, useEffect, useState } from "react";

/**
 * Cursor paging for the admin lists: the API hands out a `next_cursor` per page, so going back
 * means remembering the cursors that led here. A new search starts again at the first page.
 */
export function usePager(resetKey: string) {
  // cursors[i] opens page i; page 0 has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [key, setKey] = useState(resetKey);

  if (key !== resetKey) {
    setKey(resetKey);
    setCursors([null]);
  }

  const index = cursors.length - 1;
  return {
    /** The cursor to ask the current page with. */
    cursor: cursors[index] ?? null,
    /** 1-based, for people. */
    page: index + 1,
    hasPrevious: index > 0,
    next: useCallback((nextCursor: string) => setCursors((stack) => [...stack, nextCursor]), []),
    previous: useCallback(() => setCursors((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)), []),
  };
}

/** `value`, once it has stopped changing for `delayMs`: a search box asks once per pause. */
export function useDebouncedValue<T>(value: T, delayMs = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}
