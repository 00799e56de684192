import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";

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
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { toast } from "@/components/ui/toast";
import { errorMessage } from "@/lib/api";

import { useCreateOrg } from "./api";

const MAX_NAME_LENGTH = 200;

/** Create an organization and go to it; the creator becomes its owner. */
export function CreateOrgDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const [name, setName] = useState("");
  const createOrg = useCreateOrg();
  const navigate = useNavigate();

  function change(next: boolean) {
    if (!next) {
      setName("");
      createOrg.reset();
    }
    onOpenChange(next);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    createOrg.mutate(name.trim(), {
      onSuccess: (org) => {
        toast.success("Organization created", `You are the owner of ${org.name}.`);
        change(false);
        navigate(`/orgs/${org.id}`);
      },
    });
  }

  return (
    <Dialog open={open} onOpenChange={change}>
      <DialogContent>
        <form className="grid gap-4" onSubmit={onSubmit}>
          <DialogHeader>
            <DialogTitle>Create an organization</DialogTitle>
            <DialogDescription>
              Organizations hold API keys, members and usage. You become its owner.
            </DialogDescription>
          </DialogHeader>
          {createOrg.isError ? (
            <Alert variant="destructive">
              <AlertDescription className="text-destructive">
                {errorMessage(createOrg.error)}
              </AlertDescription>
            </Alert>
          ) : null}
          <div className="grid gap-2">
            <Label htmlFor="org-name">Name</Label>
            <Input
              id="org-name"
              required
              maxLength={MAX_NAME_LENGTH}
              autoComplete="organization"
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          </div>
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline">
                Cancel
              </Button>
            </DialogClose>
            <Button type="submit" disabled={createOrg.isPending || name.trim() === ""}>
              {createOrg.isPending ? "Creating…" : "Create"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
