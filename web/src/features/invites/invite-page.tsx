import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { MailIcon } from "lucide-react";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { FullPageSpinner } from "@/components/full-page-spinner";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { toast } from "@/components/ui/toast";
import { useAuth } from "@/features/auth/auth-context";
import { meQueryKey, useMe } from "@/features/auth/use-me";
import { ROLE_LABELS } from "@/features/orgs/roles";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "@/lib/api";
import { formatDate } from "@/lib/format";

type Preview = Schemas["InvitePreview"];

const CLOSED: Record<Exclude<Preview["status"], "pending">, (p: Preview) => string> = {
  accepted: () => "This invite was already used. If it was yours, sign in to reach the organization.",
  revoked: (p) => `This invite was withdrawn. Ask someone at ${p.org_name} for a new one.`,
  expired: (p) =>
    `This invite expired on ${formatDate(p.expires_at)}. Ask someone at ${p.org_name} for a new one.`,
};

function Frame({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-dvh items-center justify-center bg-muted/40 p-4">
      <div className="w-full max-w-md">{children}</div>
    </main>
  );
}

/** `/invite/:token`: what the invite offers, and joining through it. */
export function InvitePage() {
  const { token = "" } = useParams();
  const preview = useQuery({
    queryKey: ["invite", token],
    queryFn: () => unwrap(api.GET("/invites/{token}", { params: { path: { token } } })),
  });

  if (preview.isPending) return <FullPageSpinner label="Opening the invite" />;
  if (preview.isError) {
    const unknown = preview.error instanceof ApiError && preview.error.status === 404;
    return (
      <Frame>
        <ErrorState
          title={unknown ? "This invite link is not valid" : "Could not open the invite"}
          error={
            unknown
              ? new Error("Check that you copied the whole link, or ask for a new invite.")
              : preview.error
          }
          onRetry={unknown ? undefined : () => void preview.refetch()}
        />
      </Frame>
    );
  }

  const invite = preview.data;
  return (
    <Frame>
      <Card>
        <CardHeader>
          <MailIcon aria-hidden="true" className="size-6 text-muted-foreground" />
          <CardTitle as="h1" className="text-xl">
            Join {invite.org_name}
          </CardTitle>
          <CardDescription>
            {invite.email} is invited as {ROLE_LABELS[invite.role].toLowerCase()}.
            {invite.status === "pending" ? ` The invite expires on ${formatDate(invite.expires_at)}.` : null}
          </CardDescription>
        </CardHeader>
        <CardContent>
          {invite.status === "pending" ? (
            <Accept token={token} invite={invite} />
          ) : (
            <div className="grid gap-4">
              <Alert>
                <AlertDescription>{CLOSED[invite.status](invite)}</AlertDescription>
              </Alert>
              <Button asChild variant="outline">
                <Link to="/login">Sign in</Link>
              </Button>
            </div>
          )}
        </CardContent>
      </Card>
    </Frame>
  );
}

function Accept({ token, invite }: { token: string; invite: Preview }) {
  const { status, signIn, signOut } = useAuth();
  const me = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();

  const accept = useMutation({
    mutationFn: (body: Schemas["InviteAcceptNewAccount"] | undefined) =>
      unwrap(api.POST("/invites/{token}/accept", { params: { path: { token } }, body })),
    onSuccess: async (joined, body) => {
      if (body) await signIn(invite.email, body.password);
      await queryClient.invalidateQueries({ queryKey: meQueryKey });
      toast.success(`Welcome to ${joined.org_name}`);
      navigate(`/orgs/${joined.org_id}`, { replace: true });
    },
  });

  const failure = accept.isError ? (
    <Alert variant="destructive">
      <AlertDescription className="text-destructive">{errorMessage(accept.error)}</AlertDescription>
    </Alert>
  ) : null;

  if (status === "restoring" || (status === "signed-in" && me.isPending)) {
    return <p className="text-sm text-muted-foreground">Checking who is signed in…</p>;
  }

  if (status === "signed-in" && me.data) {
    if (me.data.email.toLowerCase() !== invite.email.toLowerCase()) {
      return (
        <div className="grid gap-4">
          <Alert>
            <AlertDescription>
              You are signed in as {me.data.email}, but this invite is for {invite.email}. Sign out
              to accept it with that email.
            </AlertDescription>
          </Alert>
          <Button variant="outline" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      );
    }
    return (
      <div className="grid gap-4">
        {failure}
        <Button disabled={accept.isPending} onClick={() => accept.mutate(undefined)}>
          {accept.isPending ? "Joining…" : `Accept as ${me.data.email}`}
        </Button>
      </div>
    );
  }

  if (invite.account_exists) {
    return (
      <div className="grid gap-4">
        <p className="text-sm text-muted-foreground">
          {invite.email} already has an account: sign in to accept.
        </p>
        <Button asChild>
          <Link to={`/login?next=${encodeURIComponent(`/invite/${token}`)}`}>Sign in to accept</Link>
        </Button>
      </div>
    );
  }

  return <NewAccountForm pending={accept.isPending} failure={failure} onSubmit={accept.mutate} />;
}

function NewAccountForm({
  pending,
  failure,
  onSubmit,
}: {
  pending: boolean;
  failure: ReactNode;
  onSubmit: (body: Schemas["InviteAcceptNewAccount"]) => void;
}) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit({ name: name.trim(), password });
  }

  return (
    <form className="grid gap-4" onSubmit={submit}>
      <p className="text-sm text-muted-foreground">Create your account to join.</p>
      {failure}
      <div className="grid gap-2">
        <Label htmlFor="name">Your name</Label>
        <Input
          id="name"
          required
          maxLength={200}
          autoComplete="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
      </div>
      <div className="grid gap-2">
        <Label htmlFor="new-password">Password</Label>
        <Input
          id="new-password"
          type="password"
          required
          autoComplete="new-password"
          aria-describedby="password-hint"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <p id="password-hint" className="text-xs text-muted-foreground">
          Use a long password that you use nowhere else.
        </p>
      </div>
      <Button type="submit" disabled={pending || name.trim() === "" || password === ""}>
        {pending ? "Joining…" : "Create account and join"}
      </Button>
    </form>
  );
}
