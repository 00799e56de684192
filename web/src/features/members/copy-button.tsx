import { CheckIcon, CopyIcon } from "lucide-react";
import { useEffect, useState } from "react";

import { Button, type ButtonProps } from "@/components/ui/button";
import { toast } from "@/components/ui/toast";

import { copyText } from "./clipboard";

const COPIED_MS = 2000;

/** A button that copies `text` and says so for a moment; `label` names what it copies. */
export function CopyButton({
  text,
  label,
  variant = "outline",
  size = "sm",
  ...props
}: { text: string; label: string } & Omit<ButtonProps, "onClick" | "children">) {
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), COPIED_MS);
    return () => window.clearTimeout(timer);
  }, [copied]);

  async function copy() {
    try {
      await copyText(text);
      setCopied(true);
    } catch (error) {
      toast.error(error, "Could not copy; select the text and copy it by hand");
    }
  }

  return (
    <Button
      type="button"
      variant={variant}
      size={size}
      aria-label={copied ? `Copied ${label}` : `Copy ${label}`}
      onClick={() => void copy()}
      {...props}
    >
      {copied ? <CheckIcon aria-hidden="true" /> : <CopyIcon aria-hidden="true" />}
      <span aria-live="polite">{copied ? "Copied" : "Copy"}</span>
    </Button>
  );
}
