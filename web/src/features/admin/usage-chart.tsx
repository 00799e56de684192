import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { formatNumber } from "@/lib/format";

import { chartSeries, type Granularity, type UsageGroup, type UsageReport } from "./usage-api";

const COLORS = ["#2563eb", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0891b2", "#64748b"];

function bucketLabel(iso: string, granularity: Granularity): string {
  const date = new Date(iso);
  return granularity === "hour"
    ? date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", timeZone: "UTC" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

/** Tokens per bucket, stacked by organization or model (the biggest six, then "Other"). */
export default function UsageChart({
  report,
  group,
  granularity,
}: {
  report: UsageReport;
  group: UsageGroup;
  granularity: Granularity;
}) {
  const { points, series } = chartSeries(report, group, granularity);
  return (
    <div className="h-72 w-full" role="img" aria-label={`Tokens per ${granularity}, by ${group}`}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} className="stroke-border" />
          <XAxis
            dataKey="bucket"
            tickFormatter={(value: string) => bucketLabel(value, granularity)}
            tick={{ fontSize: 12 }}
            minTickGap={16}
          />
          <YAxis tickFormatter={(value: number) => formatNumber(value)} tick={{ fontSize: 12 }} width={64} />
          <Tooltip
            labelFormatter={(value) => bucketLabel(String(value), granularity)}
            formatter={(value) => formatNumber(Number(value))}
          />
          <Legend />
          {series.map((s, i) => (
            <Bar
              key={s.key}
              dataKey={s.key}
              name={s.label}
              stackId="tokens"
              fill={COLORS[i % COLORS.length]}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
