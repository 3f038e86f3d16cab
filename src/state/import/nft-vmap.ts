// nft verdict maps → vmap actions (`meta mark vmap { 1 : jump a, … }`), and
// the ones keyed by a number generator or a hash → balance actions.
import { JHASH_SEED } from '../../net/jhash.js';
import type { Action } from '../program.js';
import type { J, NftRuleDraft } from './nft-draft.js';
import { describe, kindOf, members, u, Unsupported, unwrapElem } from './nft-values.js';

type VmapKey = Extract<Action, { kind: 'vmap' }>['key'];

export function onVmap(d: NftRuleDraft, v: J): void {
  const bk = kindOf(v.key);
  if (bk === 'numgen' || bk === 'jhash') return onBalance(d, v, bk);
  const { key, mask } = vmapKey(v.key);
  const entries: Extract<Action, { kind: 'vmap' }>['entries'] = [];
  const skipped: string[] = [];
  for (const pair of members(v.data, d.ctx.sets)) {
    const [ek, verdict] = Array.isArray(pair) ? (pair as unknown[]) : [undefined, undefined];
    const vk = kindOf(verdict);
    const entryKey = unwrapElem(ek);
    const okKey = key === 'iif' || key === 'oif' ? typeof entryKey === 'string' : typeof entryKey === 'number';
    if (!okKey || (vk !== 'jump' && vk !== 'goto')) {
      skipped.push(`${describe(ek)} : ${describe(verdict)}`);
      continue;
    }
    const chain = ((verdict as J)[vk] as J).target;
    entries.push({ key: entryKey as string | number, verdict: vk, chain: d.ctx.chainName(String(chain)) });
  }
  d.actions.push({ kind: 'vmap', key, ...(mask !== undefined ? { mask } : {}), entries });
  if (skipped.length) d.unsupported.push(`vmap entries ${skipped.join(', ')}`);
}

/** What a verdict map is keyed by: a mark or ct mark (optionally masked), or an interface. */
function vmapKey(e: unknown): { key: VmapKey; mask?: number } {
  let mask: number | undefined;
  let k = kindOf(e);
  let inner = e as J;
  if (k === '&' && Array.isArray(inner['&']) && (inner['&'] as unknown[]).length === 2 && typeof (inner['&'] as unknown[])[1] === 'number') {
    mask = u((inner['&'] as number[])[1]!);
    inner = (inner['&'] as unknown[])[0] as J;
    k = kindOf(inner);
  }
  const field = k ? (inner[k] as J).key : undefined;
  if (k === 'ct' && field === 'mark') return { key: 'ctmark', mask };
  if (k === 'meta' && field === 'mark') return { key: 'mark', mask };
  if (k === 'meta' && mask === undefined && (field === 'iifname' || field === 'iif')) return { key: 'iif' };
  if (k === 'meta' && mask === undefined && (field === 'oifname' || field === 'oif')) return { key: 'oif' };
  throw new Unsupported(`vmap on ${describe(e)}`);
}

/**
 * `numgen random mod W vmap { 0-2 : jump a, 3 : jump b }` and `jhash ip saddr mod W … vmap`:
 * balancing by weight, each chain's weight the width of its range.
 */
function onBalance(d: NftRuleDraft, v: J, k: 'numgen' | 'jhash'): void {
  const gen = (v.key as J)[k] as J;
  if (k === 'numgen' && gen.mode !== 'random') throw new Unsupported(`numgen ${String(gen.mode)}`);
  let by: 'random' | 'source' | 'source-destination' = 'random';
  if (k === 'jhash') {
    // `ip saddr` implies the family (nft drops a `meta nfproto` written before it)
    const keys = d.addrKeys(gen.expr);
    if (keys.join() === 'saddr') by = 'source';
    else if (keys.join() === 'saddr,daddr') by = 'source-destination';
    else throw new Unsupported(`jhash of ${describe(gen.expr)}`);
  }
  const mod = Number(gen.mod);
  const entries = balanceEntries(d, v.data, k);
  if (entries.reduce((n, e) => n + e.weight, 0) !== mod) throw new Unsupported(`${k} mod ${mod} with ranges that do not cover it`);
  if (k === 'jhash' && Number(gen.seed ?? 0) === JHASH_SEED) {
    // multihome's own seed: the simulator can hash exactly, so keep each bucket's chain
    const map: string[] = entries.flatMap((e) => Array.from({ length: e.weight }, () => e.chain));
    const order = [...new Set(map)].map((chain) => ({ chain, weight: map.filter((c) => c === chain).length }));
    d.actions.push({ kind: 'balance', by, entries: order, map });
    return;
  }
  if (by === 'source-destination') throw new Unsupported('jhash of source and destination with a foreign seed');
  d.actions.push({ kind: 'balance', by, entries: entries.map(({ weight, chain }) => ({ weight, chain })) });
}

/** The ranges of a balancing map, in order: each one's chain and width. */
function balanceEntries(d: NftRuleDraft, data: unknown, k: 'numgen' | 'jhash'): { weight: number; chain: string; from: number }[] {
  const entries: { weight: number; chain: string; from: number }[] = [];
  for (const pair of members(data, d.ctx.sets)) {
    const [ek, verdict] = Array.isArray(pair) ? (pair as unknown[]) : [undefined, undefined];
    const vk = kindOf(verdict);
    const range = typeof ek === 'number' ? [ek, ek] : (ek as J | undefined)?.range;
    if (!Array.isArray(range) || (vk !== 'jump' && vk !== 'goto')) throw new Unsupported(`${k} vmap entry ${describe(ek)}`);
    const [from, to] = range as number[];
    entries.push({ weight: to! - from! + 1, chain: d.ctx.chainName(String(((verdict as J)[vk] as J).target)), from: from! });
  }
  return entries.sort((a, b) => a.from - b.from);
}
