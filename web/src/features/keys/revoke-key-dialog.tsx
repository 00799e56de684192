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

import { useRevokeKey, type ApiKey } from "./api";

/** Asks before revoking: a revoked key stops working within moments, for good. */
export function RevokeKeyDialog({
  orgId,
  apiKey,
  onClose,
}: {
  orgId: string;
  apiKey: ApiKey | null;
  onClose: () => void;
}) {
  const revoke = useRevokeKey(orgId);

  function change(open: boolean) {
    if (!open) {
      revoke.reset();
      onClose();
    }
  }

  return (
    <Dialog open={apiKey !== null} onOpenChange={change}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Revoke this API key?</DialogTitle>
          <DialogDescription>
            <span className="font-medium text-foreground">{apiKey?.name}</span>{" "}
            <span className="font-mono">({apiKey?.prefix}…)</span> stops working within moments,
            and cannot be restored. Anything still using it gets 401 errors.
          </DialogDescription>
        </DialogHeader>
        {revoke.isError ? (
          <Alert variant="destructive">
            <AlertDescription className="text-destructive">{errorMessage(revoke.error)}</AlertDescription>
          </Alert>
        ) : null}
        <DialogFooter>
          <DialogClose asChild>
            <Button type="button" variant="outline">
              Cancel
            </Button>
          </DialogClose>
          <Button
            type="button"
            variant="destructive"
            disabled={revoke.isPending || apiKey === null}
            onClick={() => {
              if (!apiKey) return;
              revoke.mutate(apiKey.id, {
                onSuccess: () => {
                  toast.success("API key revoked", `${apiKey.name} no longer works.`);
                  change(false);
                },
              });
            }}
          >
            {revoke.isPending ? "Revoking…" : "Revoke key"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
