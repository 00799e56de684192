import { PencilIcon, PlusIcon, PowerIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";

import { ErrorState } from "@/components/error-state";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { toast } from "@/components/ui/toast";
import { formatNumber } from "@/lib/format";

import { BackendDialog } from "./backend-dialog";
import { BackendsTable } from "./backends-table";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { TableSkeleton } from "./list-controls";
import { ModelDialog } from "./model-dialog";
import { useDeleteModel, useModels, useUpdateModel, type Model } from "./models-api";

export function formatPrice(usdPerMtok: number | null): string {
  if (usdPerMtok === null) return "—";
  return `$${usdPerMtok.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
}

function ModelCard({
  model,
  onEdit,
  onDelete,
  onAddBackend,
}: {
  model: Model;
  onEdit: () => void;
  onDelete: () => void;
  onAddBackend: () => void;
}) {
  const update = useUpdateModel();
  const toggle = () =>
    update.mutate(
      { modelId: model.id, changes: { enabled: !model.enabled } },
      {
        onSuccess: (saved) =>
          toast.success(saved.enabled ? "Model enabled" : "Model disabled", saved.name),
        onError: (error) => toast.error(error, `Could not change ${model.name}`),
      },
    );
  const facts: [string, string][] = [
    ["Upstream model", model.upstream_model],
    ["Context", model.context_length === null ? "Unknown" : `${formatNumber(model.context_length)} tokens`],
    ["Input / 1M", formatPrice(model.input_price_per_mtok)],
    ["Output / 1M", formatPrice(model.output_price_per_mtok)],
    ["Cached input / 1M", model.cached_input_price_per_mtok === null ? "As input" : formatPrice(model.cached_input_price_per_mtok)],
  ];
  return (
    <Card aria-labelledby={`model-${model.id}-title`} role="region">
      <CardHeader className="gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="grid min-w-0 gap-1.5">
          <CardTitle as="h3" id={`model-${model.id}-title`} className="flex flex-wrap items-center gap-2 font-mono">
            {model.name}
            <Badge variant="outline" className="font-sans">{model.kind}</Badge>
            {model.enabled ? (
              <Badge variant="secondary" className="font-sans">Enabled</Badge>
            ) : (
              <Badge variant="destructive" className="font-sans">Disabled</Badge>
            )}
          </CardTitle>
          <CardDescription>
            {model.backends.length === 0
              ? "No backend yet: requests for it fail until one is added."
              : `${model.backends.length} backend${model.backends.length === 1 ? "" : "s"}`}
          </CardDescription>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="outline" size="sm" onClick={onEdit} aria-label={`Edit ${model.name}`}>
            <PencilIcon aria-hidden="true" />
            Edit
          </Button>
          <Button
            variant="outline"
            size="sm"
            disabled={update.isPending}
            onClick={toggle}
            aria-label={`${model.enabled ? "Disable" : "Enable"} ${model.name}`}
          >
            <PowerIcon aria-hidden="true" />
            {model.enabled ? "Disable" : "Enable"}
          </Button>
          <Button variant="outline" size="sm" onClick={onDelete} aria-label={`Delete ${model.name}`}>
            <Trash2Icon aria-hidden="true" />
            Delete
          </Button>
        </div>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm sm:grid-cols-5">
          {facts.map(([label, value]) => (
            <div key={label} className="min-w-0">
              <dt className="text-xs text-muted-foreground">{label}</dt>
              <dd className="truncate font-medium tabular-nums" title={value}>{value}</dd>
            </div>
          ))}
        </dl>
        <div className="grid gap-2">
          <div className="flex items-center justify-between gap-2">
            <h4 className="text-sm font-semibold">Backends</h4>
            <Button variant="outline" size="sm" onClick={onAddBackend} aria-label={`Add a backend to ${model.name}`}>
              <PlusIcon aria-hidden="true" />
              Add backend
            </Button>
          </div>
          <BackendsTable model={model} />
        </div>
      </CardContent>
    </Card>
  );
}

type Dialog =
  | { kind: "create" }
  | { kind: "edit"; model: Model }
  | { kind: "delete"; model: Model }
  | { kind: "backend"; model: Model };

/** `/admin/models`: the model registry. Add, edit, switch off or delete models; manage backends. */
export function ModelsPage() {
  const models = useModels();
  const remove = useDeleteModel();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const close = () => setDialog(null);

  let body;
  if (models.isPending) body = <TableSkeleton rows={3} />;
  else if (models.isError) {
    body = <ErrorState title="Could not load the models" error={models.error} onRetry={() => void models.refetch()} />;
  } else if (models.data.length === 0) {
    body = (
      <Card>
        <CardContent className="py-8 text-center text-sm text-muted-foreground">
          No models yet. Add one, then give it a backend, and clients can call it through /v1.
        </CardContent>
      </Card>
    );
  } else {
    body = models.data.map((model) => (
      <ModelCard
        key={model.id}
        model={model}
        onEdit={() => setDialog({ kind: "edit", model })}
        onDelete={() => {
          remove.reset();
          setDialog({ kind: "delete", model });
        }}
        onAddBackend={() => setDialog({ kind: "backend", model })}
      />
    ));
  }

  return (
    <section aria-labelledby="admin-models-title" className="grid grid-cols-1 gap-4">
      <div className="flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <h2 id="admin-models-title" className="text-lg font-semibold">Models</h2>
          <p className="text-sm text-muted-foreground">
            What clients can call through /v1, at what price, and the servers that answer.
          </p>
        </div>
        <Button onClick={() => setDialog({ kind: "create" })}>
          <PlusIcon aria-hidden="true" />
          Add model
        </Button>
      </div>
      {body}
      {dialog?.kind === "create" ? <ModelDialog onOpenChange={(open) => !open && close()} /> : null}
      {dialog?.kind === "edit" ? <ModelDialog model={dialog.model} onOpenChange={(open) => !open && close()} /> : null}
      {dialog?.kind === "backend" ? (
        <BackendDialog model={dialog.model} onOpenChange={(open) => !open && close()} />
      ) : null}
      <ConfirmDialog
        open={dialog?.kind === "delete"}
        onOpenChange={(open) => !open && close()}
        title={dialog?.kind === "delete" ? `Delete ${dialog.model.name}?` : ""}
        description="Clients can no longer call it, and its backends are forgotten. Its usage history stays."
        confirmLabel="Delete model"
        pendingLabel="Deleting…"
        destructive
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => {
          if (dialog?.kind !== "delete") return;
          const { name } = dialog.model;
          remove.mutate(dialog.model.id, {
            onSuccess: () => {
              toast.success("Model deleted", name);
              close();
            },
          });
        }}
      />
    </section>
  );
}
