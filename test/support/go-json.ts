/**
 * JSON as a real API server writes what it stores as a Go map (custom resources, and labels,
 * annotations and data of built-in objects): every object's keys sorted, whatever order the client
 * sent them in.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
