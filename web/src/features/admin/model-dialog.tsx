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
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import { toast } from "@/components/ui/toast";
import { ApiError, errorMessage } from "@/lib/api";

import { FormField } from "./form-field";
import { useCreateModel, useUpdateModel, type Model } from "./models-api";
import {
  changedModelFields,
  emptyModelForm,
  MODEL_KINDS,
  modelForm,
  parseModel,
  type FormErrors,
  type ModelForm,
} from "./validation";

const KIND_LABELS = { chat: "Chat", completion: "Completion", embedding: "Embedding" } as const;

/** Register a model, or edit one (`model`): name, kind, upstream name, context and prices. */
export function ModelDialog({
  model,
  onOpenChange,
}: {
  model?: Model;
  onOpenChange: (open: boolean) => void;
}) {
  const [form, setForm] = useState<ModelForm>(() => (model ? modelForm(model) : emptyModelForm()));
  const [errors, setErrors] = useState<FormErrors<ModelForm>>({});
  const create = useCreateModel();
  const update = useUpdateModel();
  const mutation = model ? update : create;

  const set = (name: keyof ModelForm) => (value: string) => setForm({ ...form, [name]: value });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseModel(form);
    setErrors(parsed.errors);
    if (!parsed.ok) return;
    const done = (name: string) => {
      toast.success(model ? "Model saved" : "Model added", name);
      onOpenChange(false);
    };
    if (!model) {
      create.mutate({ ...parsed.value, enabled: true }, { onSuccess: (saved) => done(saved.name) });
      return;
    }
    const changes = changedModelFields(model, parsed.value);
    if (Object.keys(changes).length === 0) return onOpenChange(false);
    update.mutate({ modelId: model.id, changes }, { onSuccess: (saved) => done(saved.name) });
  }

  // A refusal naming a field is shown under it as well as above the form.
  const serverError = mutation.error;
  const serverParam = serverError instanceof ApiError ? serverError.param : null;
  const fieldError = (name: keyof ModelForm) =>
    errors[name] ?? (serverParam === name && serverError ? errorMessage(serverError) : undefined);

  const text = (name: keyof ModelForm, label: string, extra: Record<string, unknown> = {}) => (
    <FormField
      id={`model-${name}`}
      label={label}
      error={fieldError(name)}
      autoComplete="off"
      value={form[name]}
      onChange={(event) => set(name)(event.target.value)}
      {...extra}
    />
  );

  return (
    <Dialog open onOpenChange={(open) => !mutation.isPending && onOpenChange(open)}>
      <DialogContent className="max-w-2xl">
        <form className="grid gap-4" onSubmit={onSubmit} noValidate>
          <DialogHeader>
            <DialogTitle>{model ? `Edit ${model.name}` : "Add a model"}</DialogTitle>
            <DialogDescription>
              Clients call it by its name; the backends get the upstream name. Prices are in US
              dollars per million tokens.
            </DialogDescription>
          </DialogHeader>
          {mutation.isError ? (
            <Alert variant="destructive">
              <AlertDescription className="text-destructive">{errorMessage(mutation.error)}</AlertDescription>
            </Alert>
          ) : null}
          <div className="grid gap-4 sm:grid-cols-2">
            {text("name", "Name", {
              hint: "Sent as `model`: letters, digits and . _ : / -",
              placeholder: "llama-3.1-8b-instruct",
              spellCheck: false,
            })}
            <div className="grid content-start gap-1.5">
              <Label htmlFor="model-kind">Kind</Label>
              <Select
                id="model-kind"
                value={form.kind}
                onChange={(event) => setForm({ ...form, kind: event.target.value as ModelForm["kind"] })}
              >
                {MODEL_KINDS.map((kind) => (
                  <option key={kind} value={kind}>
                    {KIND_LABELS[kind]}
                  </option>
                ))}
              </Select>
            </div>
            {text("upstream_model", "Upstream model", {
              hint: "The name the backends expect; never shown to clients.",
              placeholder: "meta-llama/Llama-3.1-8B-Instruct",
              spellCheck: false,
            })}
            {text("context_length", "Context length", {
              hint: "Tokens; empty if unknown.",
              inputMode: "numeric",
              placeholder: "Unknown",
            })}
            {text("input_price_per_mtok", "Input price", {
              hint: "USD per million prompt tokens.",
              inputMode: "decimal",
              placeholder: "0.00",
            })}
            {text("output_price_per_mtok", "Output price", {
              hint: "USD per million completion tokens.",
              inputMode: "decimal",
              placeholder: "0.00",
            })}
            {text("cached_input_price_per_mtok", "Cached input price", {
              hint: "USD per million cached prompt tokens; empty: the input price.",
              inputMode: "decimal",
              placeholder: "Same as input",
            })}
          </div>
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline" disabled={mutation.isPending}>
                Cancel
              </Button>
            </DialogClose>
            <Button type="submit" disabled={mutation.isPending}>
              {mutation.isPending ? "Saving…" : model ? "Save model" : "Add model"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
