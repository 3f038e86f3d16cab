// The seed router as multihome compiles it, explained: which uplink each kind
// of packet takes, which policy marked it, and the SNAT address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ownershipOf } from '../../src/apply/session.js';
import { compile } from '../../src/compile/index.js';
import { parseConfig } from '../../src/config/parse.js';
import { explain } from '../../src/sim/explain.js';
import { overlayDesired } from '../../src/sim/overlay.js';
import { renderDecision } from '../../src/sim/render.js';
import type { State } from '../../src/state/types.js';
import { repoPath } from '../helpers/paths.js';

const facts = JSON.parse(fs.readFileSync(repoPath('test', 'golden', 'cases', 'seed', 'facts.json'), 'utf8')) as Pick<State, 'links'>;
const base: State = {
  links: facts.links,
  rules: [
    { family: 4, pref: 0, action: 'lookup', table: 255, protocol: 2 },
    { family: 4, pref: 32766, action: 'lookup', table: 254, protocol: 2 },
    { family: 4, pref: 32767, action: 'lookup', table: 253, protocol: 2 },
  ],
  routes: [
    { family: 4, table: 254, dst: 'default', type: 'unicast', tos: 0, metric: 0, protocol: 3, scope: 0, gateway: '205.254.211.254', dev: 'eth1', flags: [] },
  ],
  nft: null,
  sysctls: { 'net/ipv4/conf/all/rp_filter': '1' },
};
const seed = (() => {
  const file = repoPath('examples', 'seed.yaml');
  const r = parseConfig(fs.readFileSync(file, 'utf8'), file);
  if (!r.ok) throw new Error('seed config');
  return overlayDesired(base, compile(r.config, { links: base.links, mainRoutes: [] }), ownershipOf(r.config));
})();

const lan = { family: 4 as const, src: '192.168.99.10', dst: '203.0.113.10', iif: 'eth0' };

test('seed: office web leaves by isp2 with 67.17.28.12, marked by the policy', () => {
  const d = explain(seed, { ...lan, proto: 6, sport: 40000, dport: 443 });
  assert.deepEqual([d.outcome, d.error, d.dev, d.gateway, d.table, d.snat, d.mark], ['forward', null, 'eth4', '67.17.28.14', 4, '67.17.28.12', 4]);
  assert.equal(d.policy, 'policy office-web-via-isp2');
  assert.equal(d.rule?.pref, 10011);
  assert.match(renderDecision(d), /suppress_prefixlength 0: found default in table main but prefix length 0 ≤ suppress_prefixlength 0: suppressed/);
});

test('seed: everything else leaves by isp1 (the default) with 205.254.211.179', () => {
  for (const p of [{ proto: 6, dport: 22 }, { proto: 17, dport: 443 }, { proto: 1 }]) {
    const d = explain(seed, { ...lan, ...p });
    assert.deepEqual([d.dev, d.snat, d.policy], ['eth1', '205.254.211.179', 'default'], JSON.stringify(p));
  }
});

test("seed: LAN traffic to the LAN stays on main's route (suppress rule), not the uplink", () => {
  const d = explain(seed, { ...lan, dst: '192.168.99.20', src: '192.168.99.10' });
  assert.deepEqual([d.dev, d.gateway, d.table], ['eth0', null, 'main']);
});

test('seed: a reply from the internet on eth4 passes strict rp_filter thanks to the restored mark', () => {
  const d = explain(seed, {
    family: 4,
    src: '203.0.113.10',
    dst: '192.168.99.10',
    iif: 'eth4',
    proto: 6,
    sport: 443,
    dport: 40000,
    ctstate: 'established',
    ctmark: 4,
  });
  assert.deepEqual([d.outcome, d.error, d.dev], ['forward', null, 'eth0']);
  // without src_valid_mark the same reply fails strict rp_filter, as in the seed recipe
  const strict = structuredClone(seed);
  for (const k of Object.keys(strict.sysctls)) if (k.endsWith('src_valid_mark')) delete strict.sysctls[k];
  assert.equal(
    explain(strict, {
      family: 4,
      src: '203.0.113.10',
      dst: '192.168.99.10',
      iif: 'eth4',
      proto: 6,
      sport: 443,
      dport: 40000,
      ctstate: 'established',
      ctmark: 4,
    }).error,
    'EINVAL',
  );
});

test("seed: the router's own traffic follows main, unless bound to an uplink address", () => {
  const own = explain(seed, { family: 4, src: '0.0.0.0', dst: '203.0.113.10', proto: 6, dport: 80 });
  assert.deepEqual([own.outcome, own.dev, own.src], ['forward', 'eth1', '205.254.211.179']);
  const bound = explain(seed, { family: 4, src: '67.17.28.12', dst: '203.0.113.10', proto: 6, dport: 80 });
  assert.deepEqual([bound.dev, bound.table], ['eth4', 4]);
});

test('bad input: an unknown interface or a mixed-family packet is a clear error', () => {
  assert.throws(() => explain(seed, { ...lan, iif: 'eth9' }), /input interface eth9 does not exist here \(interfaces: lo, eth0, eth1, eth4\)/);
  assert.throws(() => explain(seed, { family: 4, src: '192.168.99.10', dst: '2001:db8::1', iif: 'eth0' }), /different families/);
  assert.throws(() => explain(seed, { family: 4, src: '192.168.99.10', dst: '203.0.113.300', iif: 'eth0' }), /is not an IPv4 or IPv6 address/);
});
