// Failback control: when a group's better member comes back, the group returns
// to it at once (`failback: immediate`), after it has been up for a hold time
// (`failback: 60s`), or only when an admin says so (`failback: manual`, then
// `multihome failback [GROUP]`). Until then the member is "held": still used
// when nothing better is up (groups.ts ranks it lower), never dropped. Pure:
// every call gets the time; the daemon sets a timer for `nextRelease`.
import type { ResolvedConfig } from '../config/assign.js';

export class FailbackControl {
  /** when each provider last came back from down (ms) */
  private readonly returnedAt = new Map<string, number>();
  /** per manual group: members that went down since the last `multihome failback` */
  private readonly manual = new Map<string, Set<string>>();

  /** A provider's effective state changed. */
  transition(cfg: ResolvedConfig, name: string, from: string, to: string, now: number): void {
    if (to === 'down') {
      this.returnedAt.delete(name);
      for (const [g, group] of Object.entries(cfg.groups)) {
        if (group.failback === 'manual' && group.tiers.some((t) => t.some((m) => m.name === name))) {
          let set = this.manual.get(g);
          if (!set) this.manual.set(g, (set = new Set()));
          set.add(name);
        }
      }
    } else if (from === 'down') this.returnedAt.set(name, now);
  }

  /** Per group, the members it does not return to yet. */
  held(cfg: ResolvedConfig, now: number): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [g, group] of Object.entries(cfg.groups)) {
      const members = group.tiers.flat().map((m) => m.name);
      let held: string[] = [];
      if (group.failback === 'manual') held = members.filter((n) => this.manual.get(g)?.has(n));
      else if (typeof group.failback === 'number') {
        const hold = group.failback;
        held = members.filter((n) => {
          const t = this.returnedAt.get(n);
          return t !== undefined && now - t < hold;
        });
      }
      if (held.length > 0) out[g] = held;
    }
    return out;
  }

  /** The earliest time a hold ends (for a timer), or null. */
  nextRelease(cfg: ResolvedConfig, now: number): number | null {
    let next: number | null = null;
    for (const group of Object.values(cfg.groups)) {
      if (typeof group.failback !== 'number') continue;
      for (const m of group.tiers.flat()) {
        const t = this.returnedAt.get(m.name);
        if (t === undefined || now - t >= group.failback) continue;
        const end = t + group.failback;
        if (next === null || end < next) next = end;
      }
    }
    return next;
  }

  /** `multihome failback [GROUP]`: return to the held members now. Returns the groups released. */
  release(cfg: ResolvedConfig, group?: string): string[] {
    const names = group === undefined ? Object.keys(cfg.groups) : [group];
    const released: string[] = [];
    for (const g of names) {
      if (this.manual.get(g)?.size) released.push(g);
      this.manual.delete(g);
      // a hold time ends now too
      for (const m of cfg.groups[g]?.tiers.flat() ?? []) this.returnedAt.delete(m.name);
    }
    return released;
  }
}
