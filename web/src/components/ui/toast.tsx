import { CircleAlertIcon, CircleCheckIcon, InfoIcon, XIcon } from "lucide-react";
import { useEffect, useSyncExternalStore } from "react";

import { cn } from "@/lib/utils";

/** Short notifications in a corner: `toast.success("Saved")`, `toast.error(error)`. */

type Kind = "success" | "error" | "info";

export type Toast = { id: number; kind: Kind; title: string; description?: string };

const DURATION_MS: Record<Kind, number> = { success: 4000, info: 5000, error: 8000 };
const MAX_VISIBLE = 4;

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit() {
  for (const listener of listeners) listener();
}

function push(kind: Kind, title: string, description?: string): number {
  const id = nextId++;
  toasts = [...toasts, { id, kind, title, description }].slice(-MAX_VISIBLE);
  emit();
  return id;
}

export function dismissToast(id: number) {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const toast = {
  success: (title: string, description?: string) => push("success", title, description),
  info: (title: string, description?: string) => push("info", title, description),
  error: (error: unknown, title = "Something went wrong") => push("error", title, messageOf(error)),
};

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useToasts(): Toast[] {
  return useSyncExternalStore(subscribe, () => toasts);
}

const ICONS = { success: CircleCheckIcon, error: CircleAlertIcon, info: InfoIcon };

function ToastItem({ item }: { item: Toast }) {
  useEffect(() => {
    const timer = window.setTimeout(() => dismissToast(item.id), DURATION_MS[item.kind]);
    return () => window.clearTimeout(timer);
  }, [item.id, item.kind]);
  const Icon = ICONS[item.kind];
  return (
    <li
      role={item.kind === "error" ? "alert" : "status"}
      className="pointer-events-auto flex w-full items-start gap-3 rounded-lg border bg-popover p-4 text-popover-foreground shadow-lg"
    >
      <Icon
        aria-hidden="true"
        className={cn(
          "mt-0.5 size-4 shrink-0",
          item.kind === "error" && "text-destructive",
          item.kind === "success" && "text-success",
        )}
      />
      <div className="min-w-0 flex-1 text-sm">
        <p className="font-medium">{item.title}</p>
        {item.description ? (
          <p className="mt-0.5 break-words text-muted-foreground">{item.description}</p>
        ) : null}
      </div>
      <button
        type="button"
        onClick={() => dismissToast(item.id)}
        className="rounded-sm opacity-70 hover:opacity-100 focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
      >
        <XIcon className="size-4" aria-hidden="true" />
        <span className="sr-only">Dismiss</span>
      </button>
    </li>
  );
}

/** Where toasts appear; render once near the root. */
export function Toaster() {
  const items = useToasts();
  return (
    <section aria-label="Notifications" aria-live="polite">
      <ol className="pointer-events-none fixed right-0 bottom-0 z-[100] flex w-full flex-col gap-2 p-4 sm:max-w-sm">
        {items.map((item) => (
          <ToastItem key={item.id} item={item} />
        ))}
      </ol>
    </section>
  );
}
