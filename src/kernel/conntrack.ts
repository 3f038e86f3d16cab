// Conntrack entries of one provider: when an uplink fails, only the
// connections pinned to it (by their connection mark, within multihome's mask)
// are deleted so they re-establish elsewhere — never a whole-table flush, which
// would cut every healthy connection too (mwan3's users' complaint).
import { CommandError, run, type ExecOptions } from './exec.js';

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** Delete the entries whose ctmark & mask == mark, both families; returns how many went. */
export async function deleteConntrackByMark(mark: number, mask: number, opts: ExecOptions = {}): Promise<number> {
  let total = 0;
  for (const family of ['ipv4', 'ipv6']) {
    const r = await run(['conntrack', '-D', '-f', family, '--mark', `${hex(mark)}/${hex(mask)}`], opts);
    // conntrack prints its own summary ("N flow entries have been deleted") and exits 1 when N is 0.
    const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
    if (!m) throw new CommandError(['conntrack', '-D', '-f', family, '--mark', `${hex(mark)}/${hex(mask)}`], r.code, r.stderr.trim());
    total += Number(m[1]);
  }
  return total;
}

/** How many entries have ctmark & mask == mark (both families), from conntrack's own summary line. */
export async function countConntrackByMark(mark: number, mask: number, opts: ExecOptions = {}): Promise<number> {
  let total = 0;
  for (const family of ['ipv4', 'ipv6']) {
    const r = await run(['conntrack', '-L', '-f', family, '--mark', `${hex(mark)}/${hex(mask)}`], opts);
    const m = /(\d+) flow entries have been shown/.exec(r.stderr);
    if (!m) throw new CommandError(['conntrack', '-L', '-f', family, '--mark', `${hex(mark)}/${hex(mask)}`], r.code, r.stderr.trim());
    total += Number(m[1]);
  }
  return total;
}
