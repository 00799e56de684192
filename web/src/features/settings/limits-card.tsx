import { ErrorState } from "@/components/error-state";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { formatLimit } from "@/lib/format";

import { useOrgLimits } from "./api";
import { limitRows } from "./limits";
import { UsageBar } from "./usage-bar";

/** The org's limits with what it uses now; only platform administrators change them. */
export function LimitsCard({ orgId }: { orgId: string }) {
  const limits = useOrgLimits(orgId);
  return (
    <Card>
      <CardHeader>
        <CardTitle>Limits and consumption</CardTitle>
        <CardDescription>
          Shared by every API key of the organization. Only platform administrators change limits;
          ask yours if you need more.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-[minmax(0,1fr)] gap-5">
        {limits.isPending ? (
          <div className="grid gap-3" aria-busy="true">
            {[0, 1, 2, 3, 4].map((i) => (
              <Skeleton key={i} className="h-8" />
            ))}
          </div>
        ) : limits.isError ? (
          <ErrorState
            title="Could not load the limits"
            error={limits.error}
            onRetry={() => void limits.refetch()}
          />
        ) : (
          <>
            {limits.data.usage === null ? (
              <p className="text-sm text-muted-foreground">
                The current consumption cannot be read right now; the limits still apply.
              </p>
            ) : null}
            <ul className="grid gap-4">
              {limitRows(limits.data).map((row) => (
                <li key={row.label} className="grid gap-1.5">
                  <div className="flex flex-wrap items-baseline justify-between gap-x-4 text-sm">
                    <span className="font-medium">{row.label}</span>
                    <span className="text-muted-foreground tabular-nums">
                      {row.summary}
                    </span>
                  </div>
                  {row.ratio !== null ? <UsageBar ratio={row.ratio} label={row.label} /> : null}
                </li>
              ))}
            </ul>
            {limits.data.models.length > 0 ? (
              <div className="grid gap-2">
                <h3 className="text-sm font-medium">Per-model limits</h3>
                <Table>
                  <TableHeader>
                    <TableRow>
                      <TableHead>Model</TableHead>
                      <TableHead className="text-right">Requests per minute</TableHead>
                      <TableHead className="text-right">Tokens per minute</TableHead>
                    </TableRow>
                  </TableHeader>
                  <TableBody>
                    {limits.data.models.map((m) => (
                      <TableRow key={m.model}>
                        <TableCell className="font-mono">{m.model}</TableCell>
                        <TableCell className="text-right tabular-nums">{formatLimit(m.rpm)}</TableCell>
                        <TableCell className="text-right tabular-nums">{formatLimit(m.tpm)}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </div>
            ) : null}
          </>
        )}
      </CardContent>
    </Card>
  );
}
