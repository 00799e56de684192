import { ChevronRightIcon } from "lucide-react";
import { Link, useParams } from "react-router-dom";

import { visibleSections } from "@/app/sections";
import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { ApiError } from "@/lib/api";
import { formatDate, formatLimit } from "@/lib/format";

import { useOrg, type Org } from "./api";
import { ROLE_LABELS, ROLE_SUMMARIES } from "./roles";

function Loading() {
  return (
    <div className="grid gap-4" aria-busy="true">
      <Skeleton className="h-8 w-72 max-w-full" />
      <div className="grid gap-4 lg:grid-cols-2">
        <Skeleton className="h-36" />
        <Skeleton className="h-36" />
      </div>
    </div>
  );
}

function LimitsCard({ org }: { org: Org }) {
  const { rpm, tpm, monthly_token_quota, monthly_budget_usd } = org.limits;
  const rows: [string, string][] = [
    ["Requests per minute", formatLimit(rpm)],
    ["Tokens per minute", formatLimit(tpm)],
    ["Tokens per month", formatLimit(monthly_token_quota)],
    ["Budget per month", formatLimit(monthly_budget_usd, { currency: "USD" })],
  ];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Limits</CardTitle>
        <CardDescription>Shared by every API key of the organization.</CardDescription>
      </CardHeader>
      <CardContent>
        <dl className="grid grid-cols-[1fr_auto] gap-x-4 gap-y-2 text-sm">
          {rows.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-muted-foreground">{label}</dt>
              <dd className="text-right font-medium tabular-nums">{value}</dd>
            </div>
          ))}
        </dl>
      </CardContent>
    </Card>
  );
}

function ApiCard() {
  const baseUrl = `${window.location.origin}/v1`;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Use the API</CardTitle>
        <CardDescription>
          Any OpenAI client works: point it at this base URL with an API key of this organization.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <code className="block overflow-x-auto rounded-md bg-muted px-3 py-2 font-mono text-sm">
          {baseUrl}
        </code>
      </CardContent>
    </Card>
  );
}

/** `/orgs/:orgId`: the organization, your role in it, and its sections. */
export function OrgHomePage() {
  const { orgId = "" } = useParams();
  const org = useOrg(orgId);

  if (org.isPending) return <Loading />;
  if (org.isError) {
    const missing = org.error instanceof ApiError && org.error.status === 404;
    return (
      <ErrorState
        title={missing ? "No such organization" : "Could not load the organization"}
        error={
          missing
            ? new Error("It does not exist, or you are not one of its members.")
            : org.error
        }
        onRetry={missing ? undefined : () => void org.refetch()}
      >
        {missing ? (
          <div>
            <Button asChild variant="outline" size="sm">
              <Link to="/">Go to your organizations</Link>
            </Button>
          </div>
        ) : null}
      </ErrorState>
    );
  }

  const { role } = org.data;
  const sections = visibleSections(role);
  return (
    <div className="grid max-w-5xl gap-6">
      <PageHeader
        className="mb-0"
        title={org.data.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <Badge variant="secondary">{role ? ROLE_LABELS[role] : "Platform administrator"}</Badge>
            <span>Created {formatDate(org.data.created_at)}</span>
          </span>
        }
      />
      <Card>
        <CardHeader>
          <CardTitle>Your role</CardTitle>
          <CardDescription>
            {role
              ? ROLE_SUMMARIES[role]
              : "You are not a member, but as a platform administrator you may manage it."}
          </CardDescription>
        </CardHeader>
      </Card>
      {sections.length > 0 ? (
        <section aria-labelledby="sections-title" className="grid gap-3">
          <h2 id="sections-title" className="text-lg font-semibold">
            Sections
          </h2>
          <ul className="grid gap-3 sm:grid-cols-2">
            {sections.map((section) => (
              <li key={section.path}>
                <Link
                  to={section.path}
                  className="flex items-center gap-3 rounded-lg border bg-card p-4 outline-none transition-colors hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring"
                >
                  <section.icon aria-hidden="true" className="size-5 text-muted-foreground" />
                  <span className="min-w-0 flex-1">
                    <span className="block font-medium">{section.title}</span>
                    <span className="block text-sm text-muted-foreground">
                      {section.description}
                    </span>
                  </span>
                  <ChevronRightIcon aria-hidden="true" className="size-4 text-muted-foreground" />
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <div className="grid gap-4 lg:grid-cols-2">
        <ApiCard />
        <LimitsCard org={org.data} />
      </div>
    </div>
  );
}
