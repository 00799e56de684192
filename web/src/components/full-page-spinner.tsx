import { LoaderCircleIcon } from "lucide-react";

export function FullPageSpinner({ label }: { label: string }) {
  return (
    <div role="status" className="flex min-h-dvh items-center justify-center gap-2 text-muted-foreground">
      <LoaderCircleIcon className="size-5 animate-spin" aria-hidden="true" />
      <span className="text-sm">{label}…</span>
    </div>
  );
}
