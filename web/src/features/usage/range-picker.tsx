import { useState, type FormEvent } from "react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { cn } from "@/lib/utils";

import { PRESETS, resolveRange, toLocalDay, type RangeSelection } from "./range";

/** Presets (24 h, 7 d, 30 d) and a custom range of whole days, checked before it is applied. */
export function RangePicker({
  value,
  onChange,
}: {
  value: RangeSelection;
  onChange: (next: RangeSelection) => void;
}) {
  const today = toLocalDay(new Date());
  const [custom, setCustom] = useState(value.kind === "custom");
  const [from, setFrom] = useState(value.kind === "custom" ? value.from : toLocalDay(new Date(Date.now() - 6 * 86_400_000)));
  const [to, setTo] = useState(value.kind === "custom" ? value.to : today);
  const [error, setError] = useState<string | null>(null);

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const selection: RangeSelection = { kind: "custom", from, to };
    const resolved = resolveRange(selection, new Date());
    if (!resolved.ok) {
      setError(resolved.error);
      return;
    }
    setError(null);
    onChange(selection);
  }

  const pressed = (preset: string) => !custom && value.kind === "preset" && value.preset === preset;
  return (
    <div className="grid gap-3">
      <div role="group" aria-label="Date range" className="inline-flex w-fit rounded-lg bg-muted p-1">
        {PRESETS.map((preset) => (
          <button
            key={preset.value}
            type="button"
            aria-pressed={pressed(preset.value)}
            onClick={() => {
              setCustom(false);
              setError(null);
              onChange({ kind: "preset", preset: preset.value });
            }}
            className={segmentClass(pressed(preset.value))}
          >
            {preset.label}
          </button>
        ))}
        <button
          type="button"
          aria-pressed={custom}
          onClick={() => setCustom(true)}
          className={segmentClass(custom)}
        >
          Custom
        </button>
      </div>
      {custom ? (
        <form className="flex flex-wrap items-end gap-3" onSubmit={apply} noValidate>
          <div className="grid gap-1.5">
            <Label htmlFor="usage-from">From</Label>
            <Input
              id="usage-from"
              type="date"
              className="w-40"
              max={today}
              value={from}
              aria-invalid={error !== null}
              onChange={(event) => setFrom(event.target.value)}
            />
          </div>
          <div className="grid gap-1.5">
            <Label htmlFor="usage-to">To</Label>
            <Input
              id="usage-to"
              type="date"
              className="w-40"
              value={to}
              aria-invalid={error !== null}
              onChange={(event) => setTo(event.target.value)}
            />
          </div>
          <Button type="submit" variant="outline">
            Apply
          </Button>
          {error ? (
            <p role="alert" className="basis-full text-sm text-destructive">
              {error}
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}

function segmentClass(active: boolean) {
  return cn(
    "h-7 rounded-md px-3 text-sm font-medium outline-none transition-colors focus-visible:ring-2 focus-visible:ring-ring",
    active ? "bg-background text-foreground shadow-xs" : "text-muted-foreground hover:text-foreground",
  );
}
