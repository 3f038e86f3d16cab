// The importers read a rule through tables of handlers keyed by what the dump
// names: an nft expression or statement kind, an iptables match option or
// target. The key comes from the dump, so only a table's own keys count: a
// statement named "constructor" or "toString" finds no handler.

/** The handler `table` has for `key`; undefined when it has none. */
export function handlerOf<H>(table: Readonly<Record<string, H>>, key: unknown): H | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}
