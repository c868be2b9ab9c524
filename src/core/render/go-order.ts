/**
 * Go's order of strings: by their UTF-8 bytes, which is Unicode code point order. Used wherever the
 * agent must list things as the driver or ASCP does (object ids in pod statuses and events, JSON
 * object keys and sorting in JMESPath). Compared by code point, so no string is encoded to compare.
 */
/** Orders ids by Unicode code point, i.e. by their UTF-8 bytes (as Go sorts strings). */
export function compareIds(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}
