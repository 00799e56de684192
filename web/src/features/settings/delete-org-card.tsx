import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";

import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
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
import { toast } from "@/components/ui/toast";
import type { Org } from "@/features/orgs/api";
import { errorMessage } from "@/lib/api";

import { useDeleteOrg } from "./api";

/** Whether what was typed confirms deleting the org: its exact name, spaces around aside. */
export function confirmsName(typed: string, name: string): boolean {
  return typed.trim() === name.trim();
}

/** Deleting the org, behind typing its name (owners only). */
export function DeleteOrgCard({ org }: { org: Org }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const deleteOrg = useDeleteOrg(org.id);
  const navigate = useNavigate();

  function change(next: boolean) {
    if (deleteOrg.isPending) return;
    if (!next) {
      setTyped("");
      deleteOrg.reset();
    }
    setOpen(next);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!confirmsName(typed, org.name)) return;
    deleteOrg.mutate(undefined, {
      onSuccess: () => {
        toast.success("Organization deleted", `${org.name} is gone.`);
        navigate("/", { replace: true });
      },
    });
  }

  return (
    <Card className="border-destructive/40">
      <CardHeader>
        <CardTitle>Delete the organization</CardTitle>
        <CardDescription>
          Removes its members, invites and API keys at once; requests with its keys stop working.
          Its usage history is kept. This cannot be undone.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Button variant="destructive" onClick={() => change(true)}>
          Delete organization
        </Button>
        <Dialog open={open} onOpenChange={change}>
          <DialogContent>
            <form className="grid gap-4" onSubmit={submit}>
              <DialogHeader>
                <DialogTitle>Delete {org.name}?</DialogTitle>
                <DialogDescription>
                  Its members lose access and its API keys are revoked. Type its name to confirm.
                </DialogDescription>
              </DialogHeader>
              {deleteOrg.isError ? (
                <Alert variant="destructive">
                  <AlertDescription className="text-destructive">
                    {errorMessage(deleteOrg.error)}
                  </AlertDescription>
                </Alert>
              ) : null}
              <div className="grid gap-2">
                <Label htmlFor="confirm-org-name">
                  Organization name <span className="font-mono font-normal">({org.name})</span>
                </Label>
                <Input
                  id="confirm-org-name"
                  autoComplete="off"
                  value={typed}
                  onChange={(event) => setTyped(event.target.value)}
                />
              </div>
              <DialogFooter>
                <DialogClose asChild>
                  <Button type="button" variant="outline" disabled={deleteOrg.isPending}>
                    Cancel
                  </Button>
                </DialogClose>
                <Button
                  type="submit"
                  variant="destructive"
                  disabled={deleteOrg.isPending || !confirmsName(typed, org.name)}
                >
                  {deleteOrg.isPending ? "Deleting…" : "Delete for good"}
                </Button>
              </DialogFooter>
            </form>
          </DialogContent>
        </Dialog>
      </CardContent>
    </Card>
  );
}
