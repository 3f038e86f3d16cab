// Shrink a world that shows a disagreement to a small one that still shows it,
// for a regression case: drop rules, routes, sysctls and whole interfaces while
// a predicate on the installed world (kernel answer + simulator) still holds.
// Greedy, chunked (halves first, then single items); every try installs the
// candidate world in fresh namespaces, so a shrink takes tens of seconds.
import type { Packet } from '../../src/sim/types.js';
import type { State } from '../../src/state/types.js';
import { compareCase } from './compare.js';
import type { WorldSpec } from './generate.js';
import { routeGet, withWorld, type KernelAnswer } from './oracle.js';

/** Holds for a world that still shows what is being shrunk for. */
export type ShrinkPredicate = (state: State, kernel: KernelAnswer) => boolean;

/** The default: the simulator disagrees with the kernel, which still gives the same answer. */
export const stillDisagrees =
  (packet: Packet, kernel: KernelAnswer): ShrinkPredicate =>
  (state, k) =>
    JSON.stringify(k) === JSON.stringify(kernel) && compareCase(state, packet, k).diff !== null;

/** Something a shrink step may drop: a rule, route, sysctl, interface or address, or a flag set back to its plain value. */
type Item = { kind: 'rule' | 'route' | 'sysctl' | 'link' | 'addr' | 'adminDown' | 'carrier' | 'group' | 'moveLocalRule'; index: number };

function without(spec: WorldSpec, drop: Item[]): WorldSpec {
  const del = (kind: Item['kind']) => new Set(drop.filter((d) => d.kind === kind).map((d) => d.index));
  const [rules, routes, sysctls, links, addrs] = [del('rule'), del('route'), del('sysctl'), del('link'), del('addr')];
  const [up, carrier, group] = [del('adminDown'), del('carrier'), del('group')];
  const gone = new Set(spec.links.filter((_, i) => links.has(i)).map((l) => l.name));
  const usesGone = (devs: (string | undefined)[]) => devs.some((d) => d !== undefined && gone.has(d));
  const { moveLocalRule, ...rest } = spec;
  const keepMove = moveLocalRule && !drop.some((d) => d.kind === 'moveLocalRule');
  return {
    ...rest,
    ...(keepMove ? { moveLocalRule: true } : {}),
    links: spec.links
      .map((l, i) => {
        const { adminDown, ...plain } = l;
        return {
          ...plain,
          ...(adminDown && !up.has(i) ? { adminDown } : {}),
          carrier: l.carrier || carrier.has(i),
          group: group.has(i) ? 0 : l.group,
          v4: l.v4.filter((_, j) => !addrs.has(i * 100 + j)),
          v6: l.v6.filter((_, j) => !addrs.has(i * 100 + 50 + j)),
        };
      })
      .filter((_, i) => !links.has(i)),
    rules: spec.rules.filter((r, i) => !rules.has(i) && !usesGone([r.iif, r.oif])),
    routes: spec.routes.filter((r, i) => !routes.has(i) && !usesGone([r.dev, ...(r.nexthops ?? []).map((n) => n.dev)])),
    sysctls: spec.sysctls.filter(([k], i) => !sysctls.has(i) && !usesGone([k.split('.')[3]])),
  };
}

function items(spec: WorldSpec, packet: Packet): Item[] {
  const keep = new Set([packet.iif, packet.oif]);
  return [
    ...spec.rules.map((_, index) => ({ kind: 'rule' as const, index })),
    ...spec.routes.map((_, index) => ({ kind: 'route' as const, index })),
    ...spec.sysctls.map((_, index) => ({ kind: 'sysctl' as const, index })),
    ...spec.links.flatMap((l, index) => (keep.has(l.name) ? [] : [{ kind: 'link' as const, index }])),
    ...spec.links.flatMap((l, i) =>
      [...l.v4.map((_, j) => i * 100 + j), ...l.v6.map((_, j) => i * 100 + 50 + j)].map((index) => ({ kind: 'addr' as const, index })),
    ),
    ...spec.links.flatMap((l, index) => [
      ...(l.adminDown ? [{ kind: 'adminDown' as const, index }] : []),
      ...(!l.carrier ? [{ kind: 'carrier' as const, index }] : []),
      ...(l.group ? [{ kind: 'group' as const, index }] : []),
    ]),
    ...(spec.moveLocalRule ? [{ kind: 'moveLocalRule' as const, index: 0 }] : []),
  ];
}

export interface ShrinkResult {
  spec: WorldSpec;
  state: State;
  kernel: KernelAnswer;
  tries: number;
}

/** Ask the kernel about one packet in a world: its answer and the world as read back. */
export async function probe(spec: WorldSpec, packet: Packet): Promise<{ state: State; kernel: KernelAnswer }> {
  return withWorld(spec, async (w) => ({ state: w.state, kernel: (await routeGet(w.ns, [packet]))[0]! }));
}

export async function shrink(spec: WorldSpec, packet: Packet, holds: ShrinkPredicate, log: (s: string) => void = () => {}): Promise<ShrinkResult> {
  let tries = 0;
  const test = async (s: WorldSpec) => {
    tries++;
    const r = await probe(s, packet);
    return holds(r.state, r.kernel) ? r : null;
  };
  let best = await test(spec);
  if (!best) throw new Error('the predicate does not hold for the whole world');
  let current = spec;
  for (let changed = true; changed;) {
    changed = false;
    const all = items(current, packet);
    for (let chunk = Math.max(1, Math.floor(all.length / 2)); chunk >= 1; chunk = chunk === 1 ? 0 : Math.floor(chunk / 2)) {
      let list = items(current, packet);
      for (let i = 0; i < list.length;) {
        const candidate = without(current, list.slice(i, i + chunk));
        const r = await test(candidate);
        if (r) {
          current = candidate;
          best = r;
          changed = true;
          list = items(current, packet);
          log(
            `  ${tries} tries: ${current.rules.length} rules, ${current.routes.length} routes, ${current.sysctls.length} sysctls, ${current.links.length} links`,
          );
        } else {
          i += chunk;
        }
      }
    }
  }
  return { spec: current, state: best.state, kernel: best.kernel, tries };
}
