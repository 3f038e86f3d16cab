import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSysctls } from '../../src/compile/sysctl.js';
import { parseConfig } from '../../src/config/parse.js';

const cfg = (() => {
  const r = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: [192.0.2.1, "2001:db8::1"] }\n  b: { interface: eth2, gateway: 198.51.100.1 }\ndefault: a\n',
    'x.yaml',
  );
  if (!r.ok) throw new Error('bad fixture');
  return r.config;
})();

const link = (name: string, index: number) => ({ name, index, up: true, carrier: true, addresses: [] });
const links = [link('eth1', 2), link('eth2', 3)];

test('sysctls: forwarding for each family in use, src_valid_mark on IPv4 uplinks', () => {
  assert.deepEqual(compileSysctls(cfg, { links, mainRoutes: [] }), {
    'net/ipv4/ip_forward': '1',
    'net/ipv6/conf/all/forwarding': '1',
    'net/ipv4/conf/eth1/src_valid_mark': '1',
    'net/ipv4/conf/eth2/src_valid_mark': '1',
  });
});

test('sysctls: accept_ra 1 or 2 becomes 2 on IPv6 uplinks (SLAAC survives forwarding); 0 is left alone', () => {
  for (const [now, want] of [
    ['1', '2'],
    ['2', '2'],
    ['0', undefined],
  ] as const) {
    const s = compileSysctls(cfg, { links, mainRoutes: [], sysctls: { 'net/ipv6/conf/eth1/accept_ra': now } });
    assert.equal(s['net/ipv6/conf/eth1/accept_ra'], want, `accept_ra ${now}`);
  }
});

test('sysctls: none for an interface that does not exist (yet): they are set once it appears', () => {
  assert.deepEqual(compileSysctls(cfg, { links: [link('eth1', 2)], mainRoutes: [] }), {
    'net/ipv4/ip_forward': '1',
    'net/ipv6/conf/all/forwarding': '1',
    'net/ipv4/conf/eth1/src_valid_mark': '1',
  });
});
