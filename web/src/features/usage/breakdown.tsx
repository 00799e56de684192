import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatNumber } from "@/lib/format";

import { formatUsd } from "./format";
import type { GroupSummary } from "./summary";
import { SERIES_COLORS } from "./usage-chart-colors";

/** One line per model or key over the range, with its share of the tokens. */
export function Breakdown({
  title,
  description,
  groupLabel,
  groups,
  colored = false,
}: {
  title: string;
  description: string;
  groupLabel: string;
  groups: GroupSummary[];
  colored?: boolean;
}) {
  const tokens = groups.reduce((sum, g) => sum + g.total_tokens, 0);
  return (
    <Card>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        <CardDescription>{description}</CardDescription>
      </CardHeader>
      <CardContent>
        {groups.length === 0 ? (
          <p className="text-sm text-muted-foreground">Nothing in this range.</p>
        ) : (
          <Table aria-label={title}>
            <TableHeader>
              <TableRow>
                <TableHead>{groupLabel}</TableHead>
                <TableHead className="text-right">Requests</TableHead>
                <TableHead className="text-right">Tokens</TableHead>
                <TableHead className="text-right">Cost</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {groups.map((group, index) => {
                const share = tokens > 0 ? group.total_tokens / tokens : 0;
                return (
                  <TableRow key={group.key}>
                    <TableCell className="max-w-48">
                      <div className="flex items-center gap-2">
                        {colored ? (
                          <span
                            aria-hidden="true"
                            className="size-2 shrink-0 rounded-full"
                            style={{ background: SERIES_COLORS[index % SERIES_COLORS.length] }}
                          />
                        ) : null}
                        <span className="truncate font-medium" title={group.label}>
                          {group.label}
                        </span>
                      </div>
                      <div className="mt-1 h-1 rounded-full bg-muted" aria-hidden="true">
                        <div
                          className="h-1 rounded-full bg-primary/60"
                          style={{ width: `${Math.max(share * 100, 1)}%` }}
                        />
                      </div>
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {formatNumber(group.requests)}
                      {group.errors > 0 ? (
                        <span className="block text-xs text-destructive">
                          {formatNumber(group.errors)} failed
                        </span>
                      ) : null}
                    </TableCell>
                    <TableCell className="text-right tabular-nums">
                      {formatNumber(group.total_tokens)}
                      <span className="block text-xs text-muted-foreground">
                        {formatNumber(group.prompt_tokens)} in · {formatNumber(group.completion_tokens)} out
                      </span>
                    </TableCell>
                    <TableCell className="text-right tabular-nums">{formatUsd(group.cost_usd)}</TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
