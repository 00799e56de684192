import { cn } from "@/lib/utils";

/** How full a limit is; amber from 80 %, red when reached. */
export function UsageBar({ ratio, label }: { ratio: number; label: string }) {
  const percent = Math.round(ratio * 100);
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={`${percent}% used`}
      className="h-2 w-full overflow-hidden rounded-full bg-muted"
    >
      <div
        className={cn(
          "h-full rounded-full transition-[width]",
          ratio >= 1 ? "bg-destructive" : ratio >= 0.8 ? "bg-amber-500" : "bg-primary",
        )}
        style={{ width: `${Math.max(percent, ratio > 0 ? 2 : 0)}%` }}
      />
    </div>
  );
}
