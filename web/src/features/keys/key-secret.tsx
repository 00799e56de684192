import { CheckIcon, CopyIcon, TriangleAlertIcon } from "lucide-react";
import { useState } from "react";

import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";

/** The new key's secret, with a copy button and the warning that it is shown this once. */
export function KeySecret({ secret }: { secret: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // Clipboard access can be refused (permissions, plain HTTP): the text can still be selected.
      setCopied("failed");
    }
  }

  return (
    <div className="grid gap-3">
      <Alert className="border-amber-500/50 bg-amber-500/10">
        <TriangleAlertIcon aria-hidden="true" className="text-amber-600" />
        <AlertTitle>Copy this key now</AlertTitle>
        <AlertDescription>
          It is shown only this once: IAS keeps only a fingerprint of it and cannot show it again.
          If you lose it, revoke it and create another.
        </AlertDescription>
      </Alert>
      <div className="flex gap-2">
        <input
          readOnly
          aria-label="Secret API key"
          data-testid="new-key-secret"
          value={secret}
          onFocus={(event) => event.currentTarget.select()}
          className="h-9 min-w-0 flex-1 rounded-md border border-input bg-muted px-3 font-mono text-sm outline-none focus-visible:ring-2 focus-visible:ring-ring"
        />
        <Button type="button" variant="outline" onClick={() => void copy()}>
          {copied === "yes" ? <CheckIcon aria-hidden="true" /> : <CopyIcon aria-hidden="true" />}
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
      </div>
      <p className="text-sm text-muted-foreground" aria-live="polite">
        {copied === "failed"
          ? "The browser did not allow copying: select the key and copy it yourself."
          : "Use it as the Bearer token of any OpenAI client pointed at this server's /v1."}
      </p>
    </div>
  );
}
