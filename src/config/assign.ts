// Table ids and marks left out of the config are assigned here, in file order,
// skipping the ones given explicitly and the kernel's reserved tables.
import type { Config, ProviderConfig } from './schema.js';
import { lowestBit, RESERVED_TABLES } from './semantic.js';

const FIRST_AUTO_TABLE = 100;

export type ResolvedProvider = ProviderConfig & { name: string; table: number; mark: number; routes: 'follow' | 'copy' };

export interface ResolvedConfig extends Omit<Config, 'providers'> {
  providers: Record<string, ResolvedProvider>;
  /** the mark that sends a connection to `unreachable` (a group's last resort), when some group uses it */
  unreachableMark?: number;
}

export function assign(cfg: Config): ResolvedConfig {
  const usedTables = new Set(Object.values(cfg.providers).flatMap((p) => (p.table === undefined ? [] : [p.table])));
  const usedMarks = new Set(Object.values(cfg.providers).flatMap((p) => (p.mark === undefined ? [] : [p.mark])));
  let nextTable = FIRST_AUTO_TABLE;
  let k = 1;
  const low = lowestBit(cfg.mark_mask);
  const providers: Record<string, ResolvedProvider> = {};
  for (const [name, p] of Object.entries(cfg.providers)) {
    let table = p.table;
    if (table === undefined) {
      while (usedTables.has(nextTable) || Object.hasOwn(RESERVED_TABLES, nextTable)) nextTable++;
      table = nextTable;
      usedTables.add(table);
    }
    let mark = p.mark;
    if (mark === undefined) {
      for (; ; k++) {
        const m = (k * low) >>> 0;
        if ((m & ~cfg.mark_mask) >>> 0 === 0 && !usedMarks.has(m)) {
          mark = m;
          break;
        }
      }
      usedMarks.add(mark);
    }
    providers[name] = { ...p, name, table, mark, routes: p.routes ?? cfg.routes };
  }
  const out: ResolvedConfig = { ...cfg, providers };
  if (Object.values(cfg.groups ?? {}).some((g) => g.last_resort === 'unreachable')) {
    for (; ; k++) {
      const m = (k * low) >>> 0;
      if (m > cfg.mark_mask) break;
      if ((m & ~cfg.mark_mask) >>> 0 === 0 && !usedMarks.has(m)) {
        out.unreachableMark = m;
        break;
      }
    }
  }
  return out;
}
