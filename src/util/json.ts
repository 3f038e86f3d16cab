// JSON for values that hold bigints (addresses are bigints: src/net/ip.ts):
// a bigint is written as its decimal string, so equal values give equal text.
export const stableJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
