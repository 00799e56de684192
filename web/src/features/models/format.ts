/** USD per million tokens, with the precision small prices need ($0.0150, not $0.02). */
export function formatPricePerMtok(usd: number): string {
  return usd.toLocaleString(undefined, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 4,
  });
}

/** A context length in tokens ("128K"), or a dash when the registry does not know it. */
export function formatContextLength(tokens: number | null): string {
  if (tokens === null) return "—";
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return tokens.toLocaleString(undefined);
}
