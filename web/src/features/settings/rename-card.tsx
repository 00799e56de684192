import { useState, type FormEvent } from "react";

import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { toast } from "@/components/ui/toast";
import type { Org } from "@/features/orgs/api";
import { errorMessage } from "@/lib/api";

import { useRenameOrg } from "./api";

const MAX_NAME_LENGTH = 200;

/** The org's name; owners change it here, everyone else reads it. */
export function RenameCard({ org, canRename }: { org: Org; canRename: boolean }) {
  const [name, setName] = useState(org.name);
  const rename = useRenameOrg(org.id);
  const trimmed = name.trim();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    rename.mutate(trimmed, {
      onSuccess: (renamed) => {
        setName(renamed.name);
        toast.success("Organization renamed", `It is now ${renamed.name}.`);
      },
    });
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Name</CardTitle>
        <CardDescription>
          {canRename
            ? "Shown to members and in the organization switcher; it need not be unique."
            : "Only owners rename the organization."}
        </CardDescription>
      </CardHeader>
      <CardContent>
        {canRename ? (
          <form className="grid gap-3" onSubmit={submit}>
            {rename.isError ? (
              <Alert variant="destructive">
                <AlertDescription className="text-destructive">{errorMessage(rename.error)}</AlertDescription>
              </Alert>
            ) : null}
            <div className="grid gap-2">
              <Label htmlFor="org-name">Organization name</Label>
              <div className="flex flex-col gap-2 sm:flex-row">
                <Input
                  id="org-name"
                  required
                  maxLength={MAX_NAME_LENGTH}
                  autoComplete="organization"
                  value={name}
                  onChange={(event) => setName(event.target.value)}
                />
                <Button
                  type="submit"
                  disabled={rename.isPending || trimmed === "" || trimmed === org.name}
                >
                  {rename.isPending ? "Saving…" : "Rename"}
                </Button>
              </div>
            </div>
          </form>
        ) : (
          <p className="font-medium break-words">{org.name}</p>
        )}
      </CardContent>
    </Card>
  );
}
