// JSON for values that hold bigints (addresses are bigints: src/net/ip.ts):
// a bigint is written as its decimal string, so equal values give equal text.
export const stableJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/** A value from a JSON dump as text: strings as they are, numbers and booleans as written, anything else as JSON (never "[object Object]"). */
export const scalarText = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : stableJson(v);
