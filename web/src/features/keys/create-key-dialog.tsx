import { useState, type FormEvent, type ReactNode } from "react";

import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError, errorMessage } from "@/lib/api";

import { useCatalog, useCreateKey, type CreatedKey } from "./api";
import { KeySecret } from "./key-secret";
import { MAX_NAME_LENGTH, validateKeyForm, type KeyForm, type KeyFormErrors } from "./validation";

const EMPTY_FORM: KeyForm = { name: "", models: null, rpm: "", tpm: "", concurrency: "", expiresAt: "" };

// The API names the field it refused in `param`; show its message next to that field too.
const PARAM_FIELDS: Record<string, keyof KeyFormErrors> = {
  name: "name",
  models: "models",
  rpm_limit: "rpm",
  tpm_limit: "tpm",
  concurrency_limit: "concurrency",
  expires_at: "expiresAt",
};

function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: ReactNode;
}) {
  return (
    <div className="grid content-start gap-1.5">
      <Label htmlFor={id}>{label}</Label>
      {children}
      {error ? (
        <p id={`${id}-error`} className="text-xs text-destructive">
          {error}
        </p>
      ) : hint ? (
        <p className="text-xs text-muted-foreground">{hint}</p>
      ) : null}
    </div>
  );
}

function ModelChoice({
  value,
  onChange,
  error,
}: {
  value: string[] | null;
  onChange: (next: string[] | null) => void;
  error?: string;
}) {
  const catalog = useCatalog();
  const models = catalog.data ?? [];
  return (
    <fieldset className="grid gap-2" aria-describedby={error ? "key-models-error" : undefined}>
      <legend className="mb-1 text-sm font-medium">Models</legend>
      <label className="flex items-center gap-2 text-sm">
        <Checkbox checked={value === null} onChange={(e) => onChange(e.target.checked ? null : [])} />
        All models, including ones added later
      </label>
      {value !== null ? (
        catalog.isPending ? (
          <Skeleton className="h-16" />
        ) : catalog.isError ? (
          <p className="text-sm text-destructive">Could not load the models: {errorMessage(catalog.error)}</p>
        ) : models.length === 0 ? (
          <p className="text-sm text-muted-foreground">No model is available to this organization yet.</p>
        ) : (
          <ul className="grid max-h-40 gap-1.5 overflow-y-auto rounded-md border p-2 sm:grid-cols-2">
            {models.map((model) => (
              <li key={model.id}>
                <label className="flex items-center gap-2 text-sm">
                  <Checkbox
                    checked={value.includes(model.id)}
                    onChange={(e) =>
                      onChange(e.target.checked ? [...value, model.id] : value.filter((m) => m !== model.id))
                    }
                  />
                  <span className="truncate font-mono text-xs">{model.id}</span>
                  <span className="text-xs text-muted-foreground">{model.kind}</span>
                </label>
              </li>
            ))}
          </ul>
        )
      ) : null}
      {error ? (
        <p id="key-models-error" className="text-xs text-destructive">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/**
 * Create an API key: the form, checked before sending; then the secret, shown once. Closing the
 * dialog forgets the secret for good (it is kept nowhere else).
 */
export function CreateKeyDialog({
  orgId,
  open,
  onOpenChange,
}: {
  orgId: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const [form, setForm] = useState<KeyForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<KeyFormErrors>({});
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const createKey = useCreateKey(orgId);

  function change(next: boolean) {
    if (!next) {
      setForm(EMPTY_FORM);
      setErrors({});
      setCreated(null);
      createKey.reset();
    }
    onOpenChange(next);
  }

  function set<K extends keyof KeyForm>(field: K, value: KeyForm[K]) {
    setForm((f) => ({ ...f, [field]: value }));
    setErrors((e) => ({ ...e, [field === "models" ? "models" : field]: undefined }));
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const checked = validateKeyForm(form, new Date());
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    createKey.mutate(checked.body, {
      onSuccess: (key) => setCreated(key),
      onError: (error) => {
        const field = error instanceof ApiError && error.param ? PARAM_FIELDS[error.param] : undefined;
        if (field) setErrors({ [field]: error.message });
      },
    });
  }

  const invalid = (field: keyof KeyFormErrors) => ({
    "aria-invalid": errors[field] ? true : undefined,
    "aria-describedby": errors[field] ? `key-${field}-error` : undefined,
  });

  return (
    <Dialog open={open} onOpenChange={change}>
      <DialogContent
        className="sm:max-w-xl"
        // A stray click outside must not throw away a secret that cannot be shown again.
        onInteractOutside={(event) => {
          if (created) event.preventDefault();
        }}
      >
        {created ? (
          <div className="grid gap-4">
            <DialogHeader>
              <DialogTitle>API key created</DialogTitle>
              <DialogDescription>
                {created.name} · <span className="font-mono">{created.prefix}…</span>
              </DialogDescription>
            </DialogHeader>
            <KeySecret secret={created.key} />
            <DialogFooter>
              <DialogClose asChild>
                <Button type="button">I have copied it</Button>
              </DialogClose>
            </DialogFooter>
          </div>
        ) : (
          <form className="grid gap-4" onSubmit={onSubmit} noValidate>
            <DialogHeader>
              <DialogTitle>Create an API key</DialogTitle>
              <DialogDescription>
                Keys call the OpenAI-compatible API at /v1. Limits left empty share the
                organization&apos;s.
              </DialogDescription>
            </DialogHeader>
            {createKey.isError ? (
              <Alert variant="destructive">
                <AlertDescription className="text-destructive">{errorMessage(createKey.error)}</AlertDescription>
              </Alert>
            ) : null}
            <Field id="key-name" label="Name" error={errors.name}>
              <Input
                id="key-name"
                maxLength={MAX_NAME_LENGTH + 1}
                autoComplete="off"
                placeholder="e.g. production backend"
                value={form.name}
                onChange={(e) => set("name", e.target.value)}
                {...invalid("name")}
              />
            </Field>
            <ModelChoice value={form.models} onChange={(m) => set("models", m)} error={errors.models} />
            <div className="grid gap-4 sm:grid-cols-3">
              <Field id="key-rpm" label="Requests / minute" error={errors.rpm} hint="Empty: the org's">
                <Input
                  id="key-rpm"
                  inputMode="numeric"
                  value={form.rpm}
                  onChange={(e) => set("rpm", e.target.value)}
                  {...invalid("rpm")}
                />
              </Field>
              <Field id="key-tpm" label="Tokens / minute" error={errors.tpm} hint="Empty: the org's">
                <Input
                  id="key-tpm"
                  inputMode="numeric"
                  value={form.tpm}
                  onChange={(e) => set("tpm", e.target.value)}
                  {...invalid("tpm")}
                />
              </Field>
              <Field
                id="key-concurrency"
                label="Concurrent requests"
                error={errors.concurrency}
                hint="Empty: the org's"
              >
                <Input
                  id="key-concurrency"
                  inputMode="numeric"
                  value={form.concurrency}
                  onChange={(e) => set("concurrency", e.target.value)}
                  {...invalid("concurrency")}
                />
              </Field>
            </div>
            <Field
              id="key-expiresAt"
              label="Expires (optional)"
              error={errors.expiresAt}
              hint="Your local time. Empty: the key does not expire."
            >
              <Input
                id="key-expiresAt"
                type="datetime-local"
                className="w-fit"
                value={form.expiresAt}
                onChange={(e) => set("expiresAt", e.target.value)}
                {...invalid("expiresAt")}
              />
            </Field>
            <DialogFooter>
              <DialogClose asChild>
                <Button type="button" variant="outline">
                  Cancel
                </Button>
              </DialogClose>
              <Button type="submit" disabled={createKey.isPending}>
                {createKey.isPending ? "Creating…" : "Create key"}
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
