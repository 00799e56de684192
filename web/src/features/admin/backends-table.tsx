import { KeyRoundIcon } from "lucide-react";
import { useState } from "react";

import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { toast } from "@/components/ui/toast";

import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { useRemoveBackend, useUpdateBackend, type Backend, type Model } from "./models-api";

/** A model's backends: URL, weight, key, state; switch one off or on, or remove it (confirmed). */
export function BackendsTable({ model }: { model: Model }) {
  const update = useUpdateBackend();
  const remove = useRemoveBackend();
  const [removing, setRemoving] = useState<Backend | null>(null);

  if (model.backends.length === 0) {
    return <p className="rounded-md border border-dashed p-3 text-sm text-muted-foreground">No backends.</p>;
  }
  const totalWeight = model.backends.filter((b) => b.enabled).reduce((sum, b) => sum + b.weight, 0);

  return (
    <>
      <Table aria-label={`Backends of ${model.name}`}>
        <TableHeader>
          <TableRow>
            <TableHead>URL</TableHead>
            <TableHead className="text-right">Weight</TableHead>
            <TableHead>Key</TableHead>
            <TableHead>State</TableHead>
            <TableHead>
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {model.backends.map((backend) => (
            <TableRow key={backend.id}>
              <TableCell className="max-w-[24rem] truncate font-mono text-xs" title={backend.url}>
                {backend.url}
              </TableCell>
              <TableCell className="text-right tabular-nums">
                {backend.weight}
                {backend.enabled && totalWeight > 0 ? (
                  <span className="ml-1 text-xs text-muted-foreground">
                    ({Math.round((backend.weight / totalWeight) * 100)}%)
                  </span>
                ) : null}
              </TableCell>
              <TableCell>
                {backend.has_api_key ? (
                  <span className="inline-flex items-center gap-1 text-muted-foreground">
                    <KeyRoundIcon aria-hidden="true" className="size-3.5" />
                    Stored
                  </span>
                ) : (
                  <span className="text-muted-foreground">None</span>
                )}
              </TableCell>
              <TableCell>
                {backend.enabled ? <Badge variant="secondary">In use</Badge> : <Badge variant="outline">Off</Badge>}
              </TableCell>
              <TableCell>
                <div className="flex justify-end gap-2">
                  <Button
                    variant="ghost"
                    size="sm"
                    disabled={update.isPending}
                    aria-label={`${backend.enabled ? "Switch off" : "Switch on"} backend ${backend.url}`}
                    onClick={() =>
                      update.mutate(
                        { backend, changes: { enabled: !backend.enabled } },
                        { onError: (error) => toast.error(error, "Could not change the backend") },
                      )
                    }
                  >
                    {backend.enabled ? "Switch off" : "Switch on"}
                  </Button>
                  <Button
                    variant="ghost"
                    size="sm"
                    aria-label={`Remove backend ${backend.url}`}
                    onClick={() => {
                      remove.reset();
                      setRemoving(backend);
                    }}
                  >
                    Remove
                  </Button>
                </div>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Remove this backend of ${model.name}?`}
        description={
          <>
            <span className="block font-mono break-all">{removing?.url}</span>
            <span className="mt-2 block">
              No more traffic goes to it, and its stored key is forgotten.
              {model.backends.length === 1 ? " It is the model's only backend: requests will fail until you add another." : ""}
            </span>
          </>
        }
        confirmLabel="Remove backend"
        pendingLabel="Removing…"
        destructive
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() =>
          removing &&
          remove.mutate(removing, {
            onSuccess: () => {
              toast.success("Backend removed", model.name);
              setRemoving(null);
            },
          })
        }
      />
    </>
  );
}
