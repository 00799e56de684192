import { SlidersHorizontalIcon } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router-dom";

import { ErrorState } from "@/components/error-state";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { formatDate, formatLimit, formatNumber } from "@/lib/format";

import { useAdminOrgs, type AdminOrg } from "./api";
import { PagerControls, SearchBox, TableSkeleton } from "./list-controls";
import { OrgLimitsDialog } from "./org-limits-dialog";
import { useDebouncedValue, usePager } from "./use-pager";

function limitsSummary(org: AdminOrg): string {
  const { rpm, tpm, monthly_budget_usd } = org.limits;
  const parts = [
    rpm !== null ? `${formatNumber(rpm)} req/min` : null,
    tpm !== null ? `${formatNumber(tpm)} tok/min` : null,
    monthly_budget_usd !== null ? `${formatLimit(monthly_budget_usd, { currency: "USD" })}/month` : null,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(" · ") : "No limits";
}

/** `/admin/orgs`: every organization, searchable and paged; each one's limits can be edited. */
export function OrgsPage() {
  const [search, setSearch] = useState("");
  const q = useDebouncedValue(search.trim());
  const pager = usePager(q);
  const orgs = useAdminOrgs(q, pager.cursor);
  const [editing, setEditing] = useState<AdminOrg | null>(null);

  return (
    <Card>
      <CardHeader className="gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div className="grid gap-1.5">
          <CardTitle>Organizations</CardTitle>
          <CardDescription>Newest first. Limits apply to every API key of the org.</CardDescription>
        </div>
        <SearchBox id="admin-orgs-search" label="Search by name or slug" value={search} onChange={setSearch} />
      </CardHeader>
      <CardContent>
        {orgs.isPending ? (
          <TableSkeleton />
        ) : orgs.isError ? (
          <ErrorState title="Could not load the organizations" error={orgs.error} onRetry={() => void orgs.refetch()} />
        ) : orgs.data.data.length === 0 ? (
          <p className="py-6 text-center text-sm text-muted-foreground">
            {q ? `No organization matches “${q}”.` : "No organizations yet."}
          </p>
        ) : (
          <>
            <Table aria-label="Organizations" aria-busy={orgs.isFetching || undefined}>
              <TableHeader>
                <TableRow>
                  <TableHead>Name</TableHead>
                  <TableHead>Slug</TableHead>
                  <TableHead className="text-right">Members</TableHead>
                  <TableHead>Limits</TableHead>
                  <TableHead>Created</TableHead>
                  <TableHead>
                    <span className="sr-only">Actions</span>
                  </TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {orgs.data.data.map((org) => (
                  <TableRow key={org.id}>
                    <TableCell className="font-medium">
                      <Link to={`/orgs/${org.id}`} className="rounded-sm underline-offset-4 outline-none hover:underline focus-visible:ring-2 focus-visible:ring-ring">
                        {org.name}
                      </Link>
                    </TableCell>
                    <TableCell className="font-mono text-xs text-muted-foreground">{org.slug}</TableCell>
                    <TableCell className="text-right tabular-nums">{formatNumber(org.members)}</TableCell>
                    <TableCell className="text-muted-foreground">{limitsSummary(org)}</TableCell>
                    <TableCell className="whitespace-nowrap">{formatDate(org.created_at)}</TableCell>
                    <TableCell className="text-right">
                      <Button
                        variant="outline"
                        size="sm"
                        aria-label={`Edit limits of ${org.name}`}
                        onClick={() => setEditing(org)}
                      >
                        <SlidersHorizontalIcon aria-hidden="true" />
                        Limits
                      </Button>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <PagerControls
              label="Organization pages"
              page={pager.page}
              hasPrevious={pager.hasPrevious}
              nextCursor={orgs.data.next_cursor}
              busy={orgs.isFetching}
              onPrevious={pager.previous}
              onNext={pager.next}
            />
          </>
        )}
      </CardContent>
      {editing ? (
        <OrgLimitsDialog org={editing} onOpenChange={(open) => !open && setEditing(null)} />
      ) : null}
    </Card>
  );
}
