import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { formatNumber } from "@/lib/format";

import { formatBucket, formatCompact, formatUsd } from "./format";
import type { ChartPoint, GroupSummary, Metric } from "./summary";
import { SERIES_COLORS } from "./usage-chart-colors";

/** Stacked bars per bucket, one colour per group. Loaded on demand: charts are heavy. */
export default function UsageChart({
  points,
  groups,
  metric,
  granularity,
}: {
  points: ChartPoint[];
  groups: GroupSummary[];
  metric: Metric;
  granularity: string;
}) {
  const format = metric === "cost_usd" ? formatUsd : formatNumber;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
        <CartesianGrid vertical={false} stroke="var(--color-border)" />
        <XAxis
          dataKey="bucket"
          tickFormatter={(value: string) => formatBucket(value, granularity)}
          tick={{ fill: "var(--color-muted-foreground)", fontSize: 12 }}
          tickLine={false}
          axisLine={{ stroke: "var(--color-border)" }}
          minTickGap={24}
        />
        <YAxis
          tickFormatter={(value: number) => (metric === "cost_usd" ? formatUsd(value) : formatCompact(value))}
          tick={{ fill: "var(--color-muted-foreground)", fontSize: 12 }}
          tickLine={false}
          axisLine={false}
          width={metric === "cost_usd" ? 76 : 48}
          allowDecimals={metric === "cost_usd"}
        />
        <Tooltip
          cursor={{ fill: "var(--color-muted)" }}
          contentStyle={{
            background: "var(--color-popover)",
            border: "1px solid var(--color-border)",
            borderRadius: "var(--radius-md)",
            color: "var(--color-popover-foreground)",
            fontSize: 12,
          }}
          labelFormatter={(value) => formatBucket(String(value), granularity)}
          formatter={(value) => format(Number(value))}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} iconType="circle" iconSize={8} />
        {groups.map((group, index) => (
          <Bar
            key={group.key}
            dataKey={group.key}
            name={group.label}
            stackId="usage"
            fill={SERIES_COLORS[index % SERIES_COLORS.length]}
            maxBarSize={48}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
