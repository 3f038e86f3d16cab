// /etc/iproute2/rt_tables (and rt_tables.d/*.conf): "ID NAME" lines. With it,
// dumps that print custom table names ("lookup isp2") can be read.
import { TABLE_IDS } from '../types.js';
import { linesOf, u32 } from './common.js';
import { ImportError, lineOf, sourceOf, type Place } from './errors.js';
import type { TableNames } from './ip-common.js';

const LINE = /^(0x[0-9a-f]+|\d+)\s+([A-Za-z_][\w.@-]*)\s*(?:#.*)?$/i;

export const looksLikeRtTables = (text: string): boolean => {
  const ls = linesOf(text)
    .map((l) => l.text.trim())
    .filter((t) => t !== '' && !t.startsWith('#'))
    .slice(0, 100);
  return ls.length > 0 && ls.every((t) => LINE.test(t));
};

export function parseRtTables(text: string, opts: Place = {}): TableNames {
  const out: TableNames = {};
  for (const line of linesOf(text)) {
    const t = line.text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = LINE.exec(t);
    const id = m ? u32(m[1]!) : null;
    if (!m || id === null) throw new ImportError(sourceOf(opts), lineOf(opts, line.index), line.text, 'not an rt_tables line (expected "ID NAME")');
    if (!Object.hasOwn(TABLE_IDS, m[2]!)) out[m[2]!] = id;
  }
  return out;
}
