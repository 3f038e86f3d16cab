// Other tools' netfilter rules that write packet or connection mark bits
// inside multihome's mark_mask: Docker, kube-proxy, WireGuard, a hand-written
// mangle rule. Such a rule can give a connection another provider's mark (or
// wipe multihome's), which misroutes it silently — so plan names each one.
// Pure: the rules come as a Program (read by kernel/read-full.ts).
import type { Action, Program, ProgramRule } from '../state/program.js';

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** The mark bits an action may change: [packet mark bits, connection mark bits]. */
function bitsWritten(a: Action): [number, number] {
  switch (a.kind) {
    case 'mark':
      // mark = (mark & and) ^ xor: the bits cleared by `and`, and those `xor` flips
      return [(~a.and | a.xor) >>> 0, 0];
    case 'ctmark':
      return [0, (~a.and | a.xor) >>> 0];
    case 'restore-mark':
      return [a.nfmask >>> 0, 0];
    case 'save-mark':
      return [0, a.ctmask >>> 0];
    default:
      return [0, 0];
  }
}

function describe(chain: string, r: ProgramRule): string {
  const where = r.origin && r.origin !== chain ? r.origin : chain;
  return r.comment ? `${where} ("${r.comment}")` : where;
}

/** One warning per rule that writes bits inside `mask`, naming the rule and the bits. */
export function foreignMarkWarnings(program: Program, mask: number): string[] {
  const out = new Set<string>();
  for (const c of program.chains) {
    for (const r of c.rules) {
      let mark = 0;
      let ct = 0;
      for (const a of r.actions) {
        const [m, k] = bitsWritten(a);
        mark |= m;
        ct |= k;
      }
      const clash = [
        (mark & mask) >>> 0 ? `packet mark bits ${hex(mark & mask)}` : '',
        (ct & mask) >>> 0 ? `connection mark bits ${hex(ct & mask)}` : '',
      ].filter(Boolean);
      if (clash.length === 0) continue;
      out.add(
        `rule ${describe(c.name, r)} writes ${clash.join(' and ')}, inside multihome's mark_mask ${hex(mask)}: connections it marks may take another uplink. Give multihome a mark_mask that tool leaves alone (e.g. 0xff00), or change the rule.`,
      );
    }
  }
  return [...out];
}
