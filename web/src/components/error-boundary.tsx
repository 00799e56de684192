import { CircleAlertIcon } from "lucide-react";
import { Component, type ErrorInfo, type ReactNode } from "react";

import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api";

/** What a crash shows instead of a blank page: a readable message and a way out. */
export function CrashNotice({ error, onReset }: { error: unknown; onReset?: () => void }) {
  return (
    <div role="alert" className="flex min-h-dvh items-center justify-center p-4">
      <div className="grid w-full max-w-md gap-4 rounded-lg border bg-card p-6 shadow-xs">
        <div className="flex items-center gap-2">
          <CircleAlertIcon aria-hidden="true" className="size-5 text-destructive" />
          <h1 className="text-lg font-semibold">Something went wrong</h1>
        </div>
        <p className="text-sm text-muted-foreground">
          This page failed to show. Reloading usually helps; if it keeps happening, tell your
          administrator what you were doing.
        </p>
        <p className="rounded-md bg-muted px-3 py-2 text-sm break-words">{errorMessage(error)}</p>
        <div className="flex flex-wrap gap-2">
          <Button onClick={() => window.location.reload()}>Reload</Button>
          <Button
            variant="outline"
            onClick={() => {
              onReset?.();
              window.location.assign("/");
            }}
          >
            Go to the start page
          </Button>
        </div>
      </div>
    </div>
  );
}

type State = { error: unknown; failed: boolean };

/** Catches what a render throws anywhere below it. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null, failed: false };

  static getDerivedStateFromError(error: unknown): State {
    return { error, failed: true };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("The portal crashed", error, info.componentStack);
  }

  override render() {
    if (this.state.failed) {
      return (
        <CrashNotice
          error={this.state.error}
          onReset={() => this.setState({ error: null, failed: false })}
        />
      );
    }
    return this.props.children;
  }
}
