import { useState, type FormEvent } from "react";

import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { toast } from "@/components/ui/toast";
import { ApiError, errorMessage } from "@/lib/api";

import { FormField } from "./form-field";
import { useAddBackend, type Model } from "./models-api";
import { parseBackend, type BackendForm, type FormErrors } from "./validation";

/** Add a server for a model: its OpenAI-compatible base URL, an optional key, a weight. */
export function BackendDialog({
  model,
  onOpenChange,
}: {
  model: Model;
  onOpenChange: (open: boolean) => void;
}) {
  const [form, setForm] = useState<BackendForm>({ url: "", api_key: "", weight: "1" });
  const [errors, setErrors] = useState<FormErrors<BackendForm>>({});
  const add = useAddBackend();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseBackend(form);
    setErrors(parsed.errors);
    if (!parsed.ok) return;
    const { url, api_key, weight } = parsed.value;
    add.mutate(
      { modelId: model.id, backend: { url, weight, enabled: true, ...(api_key ? { api_key } : {}) } },
      {
        onSuccess: () => {
          toast.success("Backend added", `${model.name} is now also served by it.`);
          onOpenChange(false);
        },
      },
    );
  }

  const serverParam = add.error instanceof ApiError ? add.error.param : null;
  const fieldError = (name: keyof BackendForm) =>
    errors[name] ?? (serverParam === name ? errorMessage(add.error) : undefined);

  return (
    <Dialog open onOpenChange={(open) => !add.isPending && onOpenChange(open)}>
      <DialogContent>
        <form className="grid gap-4" onSubmit={onSubmit} noValidate>
          <DialogHeader>
            <DialogTitle>Add a backend to {model.name}</DialogTitle>
            <DialogDescription>
              The base URL of an OpenAI-compatible server (vLLM, SGLang, another gateway), with or
              without <code>/v1</code>. Traffic is shared between backends by weight.
            </DialogDescription>
          </DialogHeader>
          {add.isError ? (
            <Alert variant="destructive">
              <AlertDescription className="text-destructive">{errorMessage(add.error)}</AlertDescription>
            </Alert>
          ) : null}
          <FormField
            id="backend-url"
            label="URL"
            type="url"
            placeholder="http://10.0.0.5:8000/v1"
            autoComplete="off"
            spellCheck={false}
            error={fieldError("url")}
            value={form.url}
            onChange={(event) => setForm({ ...form, url: event.target.value })}
          />
          <FormField
            id="backend-api-key"
            label="API key (optional)"
            type="password"
            autoComplete="new-password"
            hint="Sent to the backend as a bearer token; stored encrypted and never shown again."
            error={fieldError("api_key")}
            value={form.api_key}
            onChange={(event) => setForm({ ...form, api_key: event.target.value })}
          />
          <FormField
            id="backend-weight"
            label="Weight"
            inputMode="numeric"
            hint="Its share of the traffic, 1 to 1000."
            error={fieldError("weight")}
            value={form.weight}
            onChange={(event) => setForm({ ...form, weight: event.target.value })}
          />
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline" disabled={add.isPending}>
                Cancel
              </Button>
            </DialogClose>
            <Button type="submit" disabled={add.isPending}>
              {add.isPending ? "Adding…" : "Add backend"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
