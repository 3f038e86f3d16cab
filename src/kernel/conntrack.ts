// Conntrack entries of one provider: when an uplink fails, only the
// connections pinned to it (by their connection mark, within multihome's mask)
// are deleted so they re-establish elsewhere — never a whole-table flush, which
// would cut every healthy connection too (mwan3's users' complaint).
import { CommandError, run, type ExecOptions } from './exec.js';

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/**
 * Run `conntrack -D|-L` on the entries whose ctmark & mask == mark, in both families, and add up
 * the count conntrack reports in its own summary line ("N flow entries have been deleted|shown";
 * it exits 1 when N is 0, so the summary, not the exit code, says whether it worked).
 */
async function byMark(op: '-D' | '-L', mark: number, mask: number, opts: ExecOptions): Promise<number> {
  const summary = op === '-D' ? /(\d+) flow entries have been deleted/ : /(\d+) flow entries have been shown/;
  let total = 0;
  for (const family of ['ipv4', 'ipv6']) {
    const argv = ['conntrack', op, '-f', family, '--mark', `${hex(mark)}/${hex(mask)}`];
    const r = await run(argv, opts);
    const m = summary.exec(r.stderr);
    if (!m) throw new CommandError(argv, r.code, r.stderr.trim());
    total += Number(m[1]);
  }
  return total;
}

/** Delete the entries whose ctmark & mask == mark, both families; returns how many went. */
export const deleteConntrackByMark = (mark: number, mask: number, opts: ExecOptions = {}): Promise<number> => byMark('-D', mark, mask, opts);

/** How many entries have ctmark & mask == mark (both families). */
export const countConntrackByMark = (mark: number, mask: number, opts: ExecOptions = {}): Promise<number> => byMark('-L', mark, mask, opts);
