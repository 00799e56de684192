/** How the portal writes dates, numbers and limits: in the reader's locale. */

export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatNumber(value: number): string {
  return value.toLocaleString(undefined);
}

/** A limit where null means there is none. */
export function formatLimit(value: number | null | undefined, options?: { currency?: string }) {
  if (value === null || value === undefined) return "No limit";
  if (options?.currency) {
    return value.toLocaleString(undefined, { style: "currency", currency: options.currency });
  }
  return formatNumber(value);
}
