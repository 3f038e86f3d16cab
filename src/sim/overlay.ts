// "What would this config do on this router?": the router's state with
// multihome's part replaced by what a config compiles to. Pure.
import { ownedRoutes, ownedRules, type Ownership } from '../apply/ownership.js';
import { isOwnChain } from '../ids.js';
import type { Program } from '../state/program.js';
import type { State } from '../state/types.js';

export function overlayDesired(base: State, desired: State, own: Ownership): State {
  const oldRules = new Set(ownedRules(base, own));
  const oldRoutes = new Set(ownedRoutes(base, own));
  const program: Program = {
    chains: [...(base.program?.chains.filter((c) => !isOwnChain(c.name)) ?? []), ...(desired.program?.chains ?? [])],
  };
  return {
    rules: [...base.rules.filter((r) => !oldRules.has(r)), ...desired.rules],
    routes: [...base.routes.filter((r) => !oldRoutes.has(r)), ...desired.routes],
    links: base.links,
    nft: desired.nft,
    sysctls: withWrites(base.sysctls, desired.sysctls),
    program,
  };
}

/**
 * Sysctl writes with the kernel's side effects: writing net.ipv4.ip_forward (or
 * conf/all/forwarding) sets forwarding on every interface too (devinet.c
 * devinet_sysctl_forward), so an overlay must show that.
 */
function withWrites(base: Record<string, string>, writes: Record<string, string>): Record<string, string> {
  const out = { ...base, ...writes };
  const fwd = writes['net/ipv4/ip_forward'] ?? writes['net/ipv4/conf/all/forwarding'];
  if (fwd !== undefined) {
    out['net/ipv4/ip_forward'] = fwd;
    for (const k of Object.keys(out)) if (/^net\/ipv4\/conf\/[^/]+\/forwarding$/.test(k)) out[k] = fwd;
  }
  return out;
}
