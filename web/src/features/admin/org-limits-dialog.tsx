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
import { errorMessage } from "@/lib/api";

import { useUpdateOrgLimits, type AdminOrg } from "./api";
import { FormField } from "./form-field";
import {
  changedLimits,
  limitsForm,
  parseLimits,
  type FormErrors,
  type Limits,
  type LimitsForm,
} from "./validation";

const FIELDS: { name: keyof LimitsForm; label: string; hint: string; decimal?: boolean }[] = [
  { name: "rpm", label: "Requests per minute", hint: "For the whole organization." },
  { name: "tpm", label: "Tokens per minute", hint: "Prompt and completion tokens together." },
  { name: "concurrency", label: "Requests at once", hint: "In flight at the same time; at least 1." },
  { name: "monthly_token_quota", label: "Tokens per month", hint: "Counted from the 1st, UTC." },
  { name: "monthly_budget_usd", label: "Budget per month (USD)", hint: "In dollars, e.g. 250.00.", decimal: true },
];

/** Edit an org's limits: each field a number, or empty for no limit; only changes are sent. */
export function OrgLimitsDialog({
  org,
  onOpenChange,
}: {
  org: AdminOrg;
  onOpenChange: (open: boolean) => void;
}) {
  const current: Limits = {
    rpm: org.limits.rpm,
    tpm: org.limits.tpm,
    concurrency: org.limits.concurrency ?? null,
    monthly_token_quota: org.limits.monthly_token_quota,
    monthly_budget_usd: org.limits.monthly_budget_usd,
  };
  const [form, setForm] = useState<LimitsForm>(() => limitsForm(current));
  const [errors, setErrors] = useState<FormErrors<LimitsForm>>({});
  const update = useUpdateOrgLimits();

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseLimits(form);
    setErrors(parsed.errors);
    if (!parsed.ok) return;
    const changes = changedLimits(current, parsed.value);
    if (Object.keys(changes).length === 0) {
      toast.info("Nothing changed", `The limits of ${org.name} are as they were.`);
      onOpenChange(false);
      return;
    }
    update.mutate(
      { orgId: org.id, limits: changes },
      {
        onSuccess: (saved) => {
          toast.success("Limits saved", `New limits apply to ${saved.name} at once.`);
          onOpenChange(false);
        },
      },
    );
  }

  return (
    <Dialog open onOpenChange={(open) => !update.isPending && onOpenChange(open)}>
      <DialogContent>
        <form className="grid gap-4" onSubmit={onSubmit} noValidate>
          <DialogHeader>
            <DialogTitle>Limits of {org.name}</DialogTitle>
            <DialogDescription>
              Shared by every API key of the organization. Leave a field empty for no limit.
            </DialogDescription>
          </DialogHeader>
          {update.isError ? (
            <Alert variant="destructive">
              <AlertDescription className="text-destructive">{errorMessage(update.error)}</AlertDescription>
            </Alert>
          ) : null}
          <div className="grid gap-4 sm:grid-cols-2">
            {FIELDS.map((field) => (
              <FormField
                key={field.name}
                id={`limit-${field.name}`}
                label={field.label}
                hint={field.hint}
                error={errors[field.name]}
                inputMode={field.decimal ? "decimal" : "numeric"}
                placeholder="No limit"
                autoComplete="off"
                value={form[field.name]}
                onChange={(event) => setForm({ ...form, [field.name]: event.target.value })}
              />
            ))}
          </div>
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline" disabled={update.isPending}>
                Cancel
              </Button>
            </DialogClose>
            <Button type="submit" disabled={update.isPending}>
              {update.isPending ? "Saving…" : "Save limits"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
