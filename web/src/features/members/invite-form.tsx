import { MailPlusIcon } from "lucide-react";
import { useId, useState, type FormEvent } from "react";

import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import type { OrgRole } from "@/features/auth/use-me";
import { ROLE_LABELS } from "@/features/orgs/roles";
import { errorMessage } from "@/lib/api";
import { formatDateTime } from "@/lib/format";

import { useCreateInvite, type CreatedInvite } from "./api";
import { CopyButton } from "./copy-button";
import { emailProblem, inviteLink } from "./email";
import { defaultInviteRole, grantableRoles, type Actor } from "./permissions";

/** Invite someone by email; the link to send them is shown once, with a copy button. */
export function InviteForm({ orgId, actor }: { orgId: string; actor: Actor }) {
  const roles = grantableRoles(actor);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<OrgRole | undefined>(() => defaultInviteRole(actor));
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const createInvite = useCreateInvite(orgId);
  const ids = useId();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = emailProblem(email);
    setProblem(found);
    if (found || !role) return;
    createInvite.mutate(
      { email: email.trim(), role },
      {
        onSuccess: (invite) => {
          setCreated(invite);
          setEmail("");
        },
      },
    );
  }

  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
      <form noValidate className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-end" onSubmit={submit}>
        <div className="grid gap-2">
          <Label htmlFor={`${ids}-email`}>Email</Label>
          <Input
            id={`${ids}-email`}
            type="email"
            autoComplete="off"
            placeholder="name@example.com"
            value={email}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${ids}-problem` : undefined}
            onChange={(event) => {
              setEmail(event.target.value);
              if (problem) setProblem(null);
            }}
          />
        </div>
        <div className="grid gap-2">
          <Label htmlFor={`${ids}-role`}>Role</Label>
          <Select
            id={`${ids}-role`}
            value={role}
            onChange={(event) => setRole(event.target.value as OrgRole)}
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </Select>
        </div>
        <Button type="submit" disabled={createInvite.isPending}>
          <MailPlusIcon aria-hidden="true" />
          {createInvite.isPending ? "Inviting…" : "Invite"}
        </Button>
        {problem ? (
          <p id={`${ids}-problem`} role="alert" className="text-sm text-destructive sm:col-span-3">
            {problem}
          </p>
        ) : null}
      </form>
      {createInvite.isError ? (
        <Alert variant="destructive">
          <AlertDescription className="text-destructive">
            {errorMessage(createInvite.error)}
          </AlertDescription>
        </Alert>
      ) : null}
      {created ? <CreatedLink invite={created} onDismiss={() => setCreated(null)} /> : null}
    </div>
  );
}

function CreatedLink({ invite, onDismiss }: { invite: CreatedInvite; onDismiss: () => void }) {
  const link = inviteLink(invite.token, window.location.origin);
  return (
    <Alert>
      <AlertTitle>Invite link for {invite.email}</AlertTitle>
      <AlertDescription className="grid gap-3">
        <p>
          Send this link to them; it makes them {ROLE_LABELS[invite.role].toLowerCase()} and works
          once, until {formatDateTime(invite.expires_at)}. It is shown only now.
        </p>
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
          <Input
            readOnly
            aria-label="Invite link"
            value={link}
            className="font-mono text-xs sm:text-xs"
            onFocus={(event) => event.target.select()}
          />
          <div className="flex gap-2">
            <CopyButton text={link} label="invite link" />
            <Button type="button" variant="ghost" size="sm" onClick={onDismiss}>
              Done
            </Button>
          </div>
        </div>
      </AlertDescription>
    </Alert>
  );
}
