// Importing what admins paste from a real router (src/state/import/). The
// fixtures under test/fixtures/import/ are real dumps (make-fixtures.sh):
// the seed router after the seed's own commands, a namespace holding every
// rule/route/iptables/nft syntax, and multihome's golden nft scripts loaded
// into the kernel.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compile, type SystemFacts } from '../../src/compile/index.js';
import { parseConfig } from '../../src/config/parse.js';
import { UserError } from '../../src/errors/index.js';
import type { Action, Chain, Program, ProgramRule } from '../../src/state/program.js';
import { programPrefix, rangeToPrefixes, stableStringify } from '../../src/state/import/common.js';
import { commandKind, promptCommand } from '../../src/state/import/detect.js';
import { ImportError } from '../../src/state/import/errors.js';
import {
  detectKind,
  importDump,
  parseIpJson,
  parseIpRouteText,
  parseIpRuleText,
  parseIptablesSave,
  parseNftJson,
  parseRtTables,
  parseSysctlText,
} from '../../src/state/import/index.js';
import { linear } from '../../src/state/import/nft-values.js';
import type { RouteState, RuleState } from '../../src/state/types.js';
import { repoPath } from '../helpers/paths.js';

const fx = (p: string): string => fs.readFileSync(repoPath('test', 'fixtures', 'import', p), 'utf8');
const sorted = (l: unknown[]): string[] => l.map(stableStringify).sort();
const sameSet = (a: unknown[], b: unknown[], msg?: string) => assert.deepEqual(sorted(a), sorted(b), msg);

/** Run f, expect an ImportError at `line` whose text and reason are as given. */
function importError(f: () => unknown, want: { line: number; text?: string | RegExp; reason?: RegExp; source?: string }): ImportError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ImportError, `expected an ImportError, got ${String(e)}`);
    assert.equal(e.line, want.line, e.message);
    if (typeof want.text === 'string') assert.equal(e.text, want.text);
    if (want.text instanceof RegExp) assert.match(e.text, want.text);
    if (want.reason) assert.match(e.reason, want.reason);
    if (want.source) assert.equal(e.source, want.source);
    assert.ok(e.message.includes(`:${want.line}:`), 'the message names the line');
    return e;
  }
  assert.fail('expected an ImportError');
}

const chain = (p: Program, name: string): Chain => {
  const c = p.chains.find((x) => x.name === name);
  assert.ok(c, `no chain ${name} in ${p.chains.map((x) => x.name).join(', ')}`);
  return c;
};
/** A rule without its origin, for comparison with a literal. */
const bare = (r: ProgramRule | undefined): Omit<ProgramRule, 'origin'> => {
  assert.ok(r, 'missing rule');
  const { origin: _o, ...rest } = r;
  return rest;
};
/** What a mark action does to a mark, as the program says: (mark & and) ^ xor. */
const applyMark = (a: Action, mark: number): number => {
  assert.ok(a.kind === 'mark' || a.kind === 'ctmark', `not a mark action: ${a.kind}`);
  return ((mark & a.and) ^ a.xor) >>> 0;
};

// ---------------------------------------------------------------- the seed router

test('seed: `ip rule show` text → the recipe’s rule, normalised like ip -json (fwmask, numeric tables)', () => {
  const rules = parseIpRuleText(fx('seed/ip-rule.txt'));
  assert.deepEqual(rules, [
    { family: 4, pref: 0, action: 'lookup', protocol: 0, table: 255 },
    { family: 4, pref: 32765, action: 'lookup', protocol: 0, fwmark: 4, fwmask: 0xffffffff, table: 4 },
    { family: 4, pref: 32766, action: 'lookup', protocol: 0, table: 254 },
    { family: 4, pref: 32767, action: 'lookup', protocol: 0, table: 253 },
  ]);
});

test('seed: rule text and ip -j JSON give equal RuleState sets (v4, v6, -d)', () => {
  sameSet(parseIpRuleText(fx('seed/ip-rule.txt')), parseIpJson(fx('seed/ip-rule.json')).rules);
  sameSet(parseIpRuleText(fx('seed/ip-6-rule.txt'), { family: 6 }), parseIpJson(fx('seed/ip-6-rule.json'), { family: 6 }).rules);
  sameSet(parseIpRuleText(fx('seed/ip-d-rule.txt')), parseIpJson(fx('seed/ip-d-rule.json')).rules);
  // -d shows the kernel's protocol of the default rules
  assert.equal(parseIpRuleText(fx('seed/ip-d-rule.txt'))[0]!.protocol, 2);
});

test('seed: route text and ip -j JSON give equal RouteState sets (plain, -d, -N -d)', () => {
  const text = parseIpRouteText(fx('seed/ip-route.txt'));
  sameSet(text, parseIpJson(fx('seed/ip-route.json')).routes);
  sameSet(parseIpRouteText(fx('seed/ip-d-route.txt')), parseIpJson(fx('seed/ip-d-route.json')).routes);
  sameSet(parseIpRouteText(fx('seed/ip-Nd-route.txt')), parseIpJson(fx('seed/ip-Nd-route.json')).routes);
  // what -d prints explicitly (proto boot, scope global, table main) is what the plain dump leaves out
  sameSet(text, parseIpRouteText(fx('seed/ip-Nd-route.txt')));
  assert.equal(text.length, 24);
});

test('seed: table 4 is the copy of main with the alternate default; routes without "table" are main', () => {
  const routes = parseIpRouteText(fx('seed/ip-route.txt'));
  const t4 = routes.filter((r) => r.table === 4);
  assert.deepEqual(
    t4.find((r) => r.dst === 'default'),
    {
      family: 4,
      table: 4,
      dst: 'default',
      type: 'unicast',
      tos: 0,
      metric: 0,
      protocol: 3,
      scope: 0,
      flags: [],
      gateway: '67.17.28.14',
      dev: 'eth4',
    },
  );
  const strip = (r: RouteState) => ({ ...r, table: 0 });
  const mainNoDefault = routes.filter((r) => r.family === 4 && r.table === 254 && r.dst !== 'default');
  sameSet(t4.filter((r) => r.dst !== 'default').map(strip), mainNoDefault.map(strip));
  assert.deepEqual(routes.find((r) => r.table === 254 && r.dst === 'default')?.gateway, '205.254.211.254');
  assert.equal(routes.filter((r) => r.table === 255 && r.family === 4).length, 9);
});

test('seed: ip -j addr show and ip -j -d link show → the same three uplinks, merged', () => {
  const addr = parseIpJson(fx('seed/ip-addr.json')).links;
  assert.deepEqual(
    addr.map((l) => [l.name, l.up, l.addresses.filter((a) => a.family === 4).map((a) => `${a.address}/${a.prefixlen}`)]),
    [
      ['lo', true, ['127.0.0.1/8']],
      ['eth0', true, ['192.168.99.1/24']],
      ['eth1', true, ['205.254.211.179/24']],
      ['eth4', true, ['67.17.28.12/24']],
    ],
  );
  const link = parseIpJson(fx('seed/ip-link.json')).links;
  assert.ok(link.every((l) => l.addresses.length === 0));
  const both = importDump([
    { name: 'link.json', text: fx('seed/ip-link.json') },
    { name: 'addr.json', text: fx('seed/ip-addr.json') },
  ]).links;
  assert.deepEqual(both, addr);
});

test('seed: iptables-save → MARK in mangle PREROUTING, SNAT per uplink in nat POSTROUTING', () => {
  const p = parseIptablesSave(fx('seed/iptables-save.txt'));
  const pre = chain(p, 'ip/mangle/PREROUTING');
  assert.deepEqual(
    { ...pre, rules: [] },
    { name: 'ip/mangle/PREROUTING', hook: 'prerouting', type: 'filter', priority: -150, families: [4], policy: 'accept', rules: [] },
  );
  assert.deepEqual(
    pre.rules.map(bare),
    [80, 443].map((port) => ({
      match: { saddr: { values: ['192.168.99.0/24'] }, l4proto: { values: [6] }, dport: { values: [{ from: port, to: port }] } },
      actions: [{ kind: 'mark', and: 0, xor: 4 }],
    })),
  );
  assert.equal(pre.rules[0]!.origin, '-A PREROUTING -s 192.168.99.0/24 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x4/0xffffffff');
  const post = chain(p, 'ip/nat/POSTROUTING');
  assert.equal(post.priority, 100);
  assert.equal(post.type, 'nat');
  assert.deepEqual(post.rules.map(bare), [
    { match: { oif: { values: ['eth4'] } }, actions: [{ kind: 'snat', to: '67.17.28.12' }] },
    { match: { oif: { values: ['eth1'] } }, actions: [{ kind: 'snat', to: '205.254.211.179' }] },
  ]);
  assert.equal(chain(p, 'ip/mangle/OUTPUT').type, 'route');
  assert.equal(chain(p, 'ip/nat/PREROUTING').priority, -100);
  assert.equal(chain(p, 'ip/nat/OUTPUT').priority, -100);
  assert.equal(chain(p, 'ip/nat/INPUT').priority, 100);
});

test('seed: nft -j of the iptables-nft tables keeps the rules, marks their xt targets unsupported; iptables-save wins when both are given', () => {
  const nft = parseNftJson(fx('seed/nft.json'));
  const pre = chain(nft, 'ip/mangle/PREROUTING');
  assert.equal(pre.rules.length, 2);
  assert.deepEqual(pre.rules[0]!.match, { saddr: { values: ['192.168.99.0/24'] }, l4proto: { values: [6] }, dport: { values: [{ from: 80, to: 80 }] } });
  assert.match(pre.rules[0]!.unsupported ?? '', /iptables-nft target MARK/);
  const merged = importDump([
    { name: 'nft.json', text: fx('seed/nft.json') },
    { name: 'iptables-save.txt', text: fx('seed/iptables-save.txt') },
  ]).program!;
  assert.deepEqual(chain(merged, 'ip/mangle/PREROUTING').rules, chain(parseIptablesSave(fx('seed/iptables-save.txt')), 'ip/mangle/PREROUTING').rules);
  assert.ok(merged.chains.every((c) => c.rules.every((r) => !r.unsupported)));
});

test('seed: a paste of several commands with prompts imports like the separate JSON dumps', () => {
  const paste = importDump([{ name: 'paste.txt', text: fx('seed/paste.txt') }]);
  const json = importDump([
    { name: 'rule.json', text: fx('seed/ip-rule.json') },
    { name: 'rule6.json', text: fx('seed/ip-6-rule.json') },
    { name: 'route.json', text: fx('seed/ip-route.json') },
    { name: 'addr.json', text: fx('seed/ip-addr.json') },
    { name: 'iptables', text: fx('seed/iptables-save.txt') },
  ]);
  assert.deepEqual(paste.rules, json.rules);
  assert.deepEqual(paste.routes, json.routes);
  assert.deepEqual(paste.links, json.links);
  assert.deepEqual(paste.program, json.program);
  assert.deepEqual(
    paste.rules.map((r) => `${r.family}:${r.pref}`),
    ['4:0', '4:32765', '4:32766', '4:32767', '6:0', '6:32766'],
  );
});

test('seed: sysctl output → slash-form keys', () => {
  assert.deepEqual(parseSysctlText(fx('seed/sysctl.txt')), {
    'net/ipv4/ip_forward': '1',
    'net/ipv4/conf/all/rp_filter': '0',
    'net/ipv4/conf/eth4/rp_filter': '0',
    'net/ipv4/conf/all/src_valid_mark': '0',
    'net/ipv4/fib_multipath_hash_policy': '0',
  });
  // a dot inside an interface name is printed as "/" by sysctl
  assert.deepEqual(parseSysctlText('net.ipv4.conf.eth0/100.rp_filter = 2\n/proc/sys/net/ipv4/conf/eth1/rp_filter:1'), {
    'net/ipv4/conf/eth0.100/rp_filter': '2',
    'net/ipv4/conf/eth1/rp_filter': '1',
  });
});

test('seed: the recipe’s own pasted steps 1 and 3 (older ip: decimal fwmark, spaces, "> " continuations) read as the live dump', () => {
  // verbatim from ../shared/seed, steps 1) and 3)
  const quoted = [
    '# ip route show table main',
    'default via 205.254.211.254 dev eth1',
    '',
    '# ip route flush table 4',
    '# ip route show table main | grep -Ev ^default \\',
    '>   | while read ROUTE ; do',
    '>     ip route add table 4 $ROUTE',
    '> done',
    '',
    '# ip route add table 4 default via 67.17.28.14',
    '# ip route show table 4',
    'default via 67.17.28.14 dev eth4',
    '',
    '# ip rule add fwmark 4 table 4',
    '# ip rule show',
    '32765:  from all fwmark 4 lookup 4 ',
    '32766:  from all lookup main ',
    '',
    '# ip route flush cache',
  ].join('\n');
  const s = importDump([{ name: 'seed.txt', text: quoted }]);
  const live = importDump([{ name: 'paste.txt', text: fx('seed/paste.txt') }]);
  const inLive = (x: unknown, list: unknown[]) =>
    assert.ok(
      list.some((y) => stableStringify(y) === stableStringify(x)),
      JSON.stringify(x),
    );
  assert.deepEqual(
    s.rules.map((r) => [r.pref, r.fwmark, r.fwmask, r.table]),
    [
      [32765, 4, 0xffffffff, 4],
      [32766, undefined, undefined, 254],
    ],
  );
  s.rules.forEach((r) => inLive(r, live.rules));
  assert.deepEqual(
    s.routes.map((r) => [r.table, r.dst, r.gateway, r.dev]),
    [
      [4, 'default', '67.17.28.14', 'eth4'],
      [254, 'default', '205.254.211.254', 'eth1'],
    ],
  );
  s.routes.forEach((r) => inLive(r, live.routes));
  // a listing command's output cannot be imported, and says what to paste instead
  importError(() => importDump([{ name: 'x.txt', text: '# iptables -t mangle -nvL\nChain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n' }]), {
    line: 1,
    reason: /paste `iptables-save`/,
  });
});

// ---------------------------------------------------------------- every rule syntax

test('rich: rule text and JSON agree for every syntax (plain, -6, -d, -N, both families pasted together)', () => {
  sameSet(parseIpRuleText(fx('rich/ip-rule.txt')), parseIpJson(fx('rich/ip-rule.json')).rules);
  sameSet(parseIpRuleText(fx('rich/ip-6-rule.txt')), parseIpJson(fx('rich/ip-6-rule.json')).rules);
  sameSet(parseIpRuleText(fx('rich/ip-d-rule.txt')), parseIpJson(fx('rich/ip-d-rule.json')).rules);
  sameSet(parseIpJson(fx('rich/ip-Nd-rule.json')).rules, parseIpJson(fx('rich/ip-d-rule.json')).rules);
  sameSet(parseIpRuleText(fx('rich/ip-N-rule.txt')), parseIpRuleText(fx('rich/ip-rule.txt')));
  sameSet(parseIpRuleText(fx('rich/ip-N-6-rule.txt'), { family: 6 }), parseIpRuleText(fx('rich/ip-6-rule.txt'), { family: 6 }));
  // `ip rule; ip -6 rule` in one paste: the second dump is IPv6 although its default rules name no address
  const both = parseIpRuleText(fx('rich/ip-rule.txt') + fx('rich/ip-6-rule.txt'));
  sameSet(both, [...parseIpRuleText(fx('rich/ip-rule.txt'), { family: 4 }), ...parseIpRuleText(fx('rich/ip-6-rule.txt'), { family: 6 })]);
  sameSet(parseIpJson(fx('rich/ip-rule.json') + '\n' + fx('rich/ip-6-rule.json')).rules, both);
});

test('rich: the selectors of one rule line (not, from, tos, fwmark/mask, iif, uidrange, ipproto, ports, lookup main, suppress_prefixlength)', () => {
  const r = parseIpRuleText(
    '100:\tnot from 10.0.0.0/8 iif eth0 [detached] fwmark 0x3/0x1 ipproto tcp sport 80-90 dport 443 uidrange 100-200 tos 0x10 lookup main suppress_prefixlength 0',
  );
  assert.deepEqual(r, [
    {
      family: 4,
      pref: 100,
      action: 'lookup',
      protocol: 0,
      not: true,
      from: '10.0.0.0/8',
      fwmark: 3,
      fwmask: 1,
      iif: 'eth0',
      tos: 16,
      ipproto: 6,
      sport: { from: 80, to: 90 },
      dport: { from: 443, to: 443 },
      uidrange: { from: 100, to: 200 },
      suppressPrefixlength: 0,
      table: 254,
    },
  ]);
});

test('rich: rule actions, hosts, oif, proto, numeric forms (-N), dsfield names', () => {
  const rules = parseIpRuleText(fx('rich/ip-rule.txt'));
  const at = (pref: number): RuleState => rules.find((r) => r.pref === pref)!;
  assert.deepEqual(at(101), {
    family: 4,
    pref: 101,
    action: 'lookup',
    protocol: 77,
    from: '10.0.0.5',
    to: '192.168.0.0/16',
    iif: 'nosuch',
    oif: 'eth0',
    table: 100,
  });
  assert.equal(at(102).fwmark, undefined); // `fwmark 0` without a mask is no selector: ip prints none
  assert.deepEqual([at(103).fwmark, at(103).fwmask], [0, 0xffffffff]);
  assert.deepEqual([at(104).action, at(104).goto, at(104).table], ['goto', 300, undefined]);
  assert.deepEqual(
    [105, 106, 107, 108].map((p) => at(p).action),
    ['unreachable', 'prohibit', 'blackhole', 'nop'],
  );
  assert.deepEqual([at(109).ipproto, at(109).dport, at(109).suppressIfgroup, at(109).table], [17, { from: 53, to: 53 }, 5, 200]);
  assert.equal(at(110).ipproto, 77);
  assert.deepEqual([at(111).action, at(111).goto, at(111).fwmark, at(111).fwmask], ['goto', 99999, 0x10, 0xff]);
  assert.equal(at(301).from, '0.0.0.0');
  assert.deepEqual([at(302).ipproto, at(302).sport, at(302).protocol], [1, { from: 5, to: 5 }, 4]);
  const v6 = parseIpRuleText(fx('rich/ip-6-rule.txt'));
  const at6 = (pref: number): RuleState => v6.find((r) => r.pref === pref)!;
  assert.ok(v6.every((r) => r.family === 6));
  assert.deepEqual([at6(200).from, at6(200).to, at6(200).tos], ['2001:db8::/32', '2001:db8:1::1', 0x20]); // "tos CS1"
  assert.deepEqual([at6(201).oif, at6(201).fwmark, at6(201).fwmask, at6(201).goto], ['eth0', 7, 0xffffffff, 300]);
  assert.deepEqual([at6(202).not, at6(202).to, at6(202).action], [true, '2001:db8::/64', 'unreachable']);
  assert.equal(at6(203).suppressIfgroup, 0); // "suppress_ifgroup default"
});

test('rule text: custom table names need rt_tables (or ip -N)', () => {
  importError(() => parseIpRuleText('0:\tfrom all lookup local\n32765:\tfrom all fwmark 0x4 lookup isp2'), {
    line: 2,
    text: '32765:\tfrom all fwmark 0x4 lookup isp2',
    reason: /unknown table name "isp2"/,
  });
  const names = parseRtTables('#\n# reserved values\n255\tlocal\n254\tmain\n4\tisp2\n');
  assert.deepEqual(names, { isp2: 4 });
  assert.equal(parseIpRuleText('32765:\tfrom all fwmark 0x4 lookup isp2', { tableNames: names })[0]!.table, 4);
  const s = importDump([
    { name: 'rules.txt', text: '32765:\tfrom all fwmark 0x4 lookup isp2\n' },
    { name: 'rt_tables', text: '4 isp2\n' },
  ]);
  assert.equal(s.rules[0]!.table, 4);
});

test('rule text: a line it cannot read → ImportError naming the line and its text', () => {
  const text = '0:\tfrom all lookup local\n\n32765:\tfrom all fwmark 0x4 lookup 4 frobnicate 7\n';
  importError(() => parseIpRuleText(text, { source: 'rules.txt' }), {
    line: 3,
    text: '32765:\tfrom all fwmark 0x4 lookup 4 frobnicate 7',
    reason: /unknown word "frobnicate"/,
    source: 'rules.txt',
  });
  importError(() => parseIpRuleText('from all lookup main'), { line: 1, reason: /not an `ip rule show` line/ });
  importError(() => parseIpRuleText('10:\tfrom 10.0.0.0/33 lookup main'), { line: 1, reason: /prefix/ });
  importError(() => parseIpRuleText('10:\tfrom all lookup [l3mdev-table]'), { line: 1, reason: /l3mdev/ });
  // line numbers count from where the text sits in its file
  importError(() => parseIpRuleText('0:\tbogus', { firstLine: 40 }), { line: 40 });
  const e = importError(() => parseIpRuleText('x'), { line: 1, text: 'x' });
  assert.ok(e instanceof UserError, 'the CLI renders it as a user error');
  assert.equal(e.issues[0]!.line, 1);
});

// ---------------------------------------------------------------- every route syntax

test('rich: route text and JSON agree for every syntax (plain, -d, -N -d)', () => {
  const text = parseIpRouteText(fx('rich/ip-route.txt'));
  sameSet(text, parseIpJson(fx('rich/ip-route.json')).routes);
  sameSet(parseIpRouteText(fx('rich/ip-d-route.txt')), parseIpJson(fx('rich/ip-d-route.json')).routes);
  sameSet(parseIpRouteText(fx('rich/ip-Nd-route.txt')), parseIpJson(fx('rich/ip-Nd-route.json')).routes);
  sameSet(text, parseIpRouteText(fx('rich/ip-Nd-route.txt')));
});

test('rich: route types, via/dev/proto/scope/src/metric/table/tos, onlink and linkdown', () => {
  const routes = parseIpRouteText(fx('rich/ip-route.txt'));
  const find = (f: number, table: number, dst: string, extra: (r: RouteState) => boolean = () => true) => {
    const r = routes.find((x) => x.family === f && x.table === table && x.dst === dst && extra(x));
    assert.ok(r, `no route ${dst} in table ${table}`);
    return r;
  };
  assert.deepEqual(
    ['1.2.3.0/24', '1.2.4.0/24', '1.2.5.0/24', '1.2.6.0/24', '10.5.5.5'].map((d) => find(4, 100, d).type),
    ['unreachable', 'prohibit', 'blackhole', 'throw', 'anycast'],
  );
  assert.equal(find(4, 100, '1.2.4.0/24').metric, 9);
  assert.deepEqual(find(4, 300, 'default'), {
    family: 4,
    table: 300,
    dst: 'default',
    type: 'unreachable',
    tos: 0,
    metric: 0,
    protocol: 3,
    scope: 0,
    flags: [],
  });
  assert.deepEqual(find(4, 100, '1.2.7.0/24').flags, ['onlink']);
  assert.deepEqual(find(4, 100, '1.2.8.0/24'), {
    family: 4,
    table: 100,
    dst: '1.2.8.0/24',
    type: 'unicast',
    tos: 0,
    metric: 0,
    protocol: 16,
    scope: 0,
    flags: ['linkdown'],
    prefsrc: '10.2.0.1',
    gateway: '10.2.0.254',
    dev: 'eth2',
  });
  assert.equal(find(4, 100, '1.2.10.0/24').protocol, 0); // "proto unspec"
  assert.equal(find(4, 100, '1.2.11.0/24').scope, 253); // realm, mtu lock, advmss skipped
  assert.deepEqual([find(4, 100, '8.8.0.0/16').protocol, find(4, 100, '8.8.0.0/16').metric], [4, 7]);
  assert.deepEqual(
    routes
      .filter((r) => r.dst === '8.8.8.0/24')
      .map((r) => r.tos)
      .sort(),
    [0x10, 0x20],
  ); // "tos CS1"
  assert.equal(find(4, 200, '1.2.9.0/24').scope, 253);
  assert.equal(find(4, 100, '5.5.5.5').gateway, '10.1.0.7');
  assert.deepEqual(find(4, 255, '10.0.0.1'), {
    family: 4,
    table: 255,
    dst: '10.0.0.1',
    type: 'local',
    tos: 0,
    metric: 0,
    protocol: 2,
    scope: 254,
    flags: [],
    prefsrc: '10.0.0.1',
    dev: 'eth0',
  });
  assert.equal(find(4, 255, '10.0.0.255').type, 'broadcast');
  // IPv6: the family of "default" comes from the route itself (pref), reject routes show dev lo
  assert.deepEqual(find(6, 300, 'default'), {
    family: 6,
    table: 300,
    dst: 'default',
    type: 'unreachable',
    tos: 0,
    metric: 1024,
    protocol: 3,
    scope: 0,
    flags: [],
    dev: 'lo',
  });
  assert.equal(find(6, 100, 'default').gateway, '2001:db8::fe');
  assert.equal(find(6, 100, 'default').metric, 10);
  assert.deepEqual(
    ['2001:db8:6::/48', '2001:db8:8::/48', '2001:db8:9::/48'].map((d) => find(6, 100, d).type),
    ['prohibit', 'throw', 'blackhole'],
  );
  assert.equal(find(6, 255, 'ff00::/8', (r) => r.dev === 'eth0').type, 'multicast');
  assert.deepEqual(find(6, 254, 'fe80::/64', (r) => r.dev === 'eth2').flags, ['linkdown']);
});

test('rich: multipath routes keep their nexthops, weights and nexthop flags', () => {
  const routes = parseIpRouteText(fx('rich/ip-route.txt'));
  assert.deepEqual(routes.find((r) => r.table === 100 && r.dst === 'default' && r.family === 4)!.nexthops, [
    { weight: 3, flags: [], gateway: '10.0.0.254', dev: 'eth0' },
    { weight: 1, flags: [], gateway: '10.1.0.254', dev: 'eth1' },
  ]);
  assert.deepEqual(routes.find((r) => r.table === 101)!.nexthops![1], { weight: 1, flags: ['linkdown'], gateway: '10.2.0.254', dev: 'eth2' });
  const v6 = routes.find((r) => r.dst === '2001:db8:5::/48')!;
  assert.deepEqual(
    [v6.family, v6.table, v6.gateway, v6.nexthops!.map((n) => [n.gateway, n.weight])],
    [
      6,
      254,
      undefined,
      [
        ['2001:db8::fe', 2],
        ['2001:db8:1::fe', 1],
      ],
    ],
  );
});

test('route text: dead nexthops, via inet6, cache lines, a one-table dump, -6 prompt family', () => {
  const text = [
    'default proto static metric 10 ',
    '\tnexthop via 10.0.0.254 dev eth0 weight 1 dead linkdown ',
    '\tnexthop via inet6 fe80::1 dev eth1 weight 2 ',
    '8.8.8.8 via 10.0.0.254 dev eth0 ',
    '    cache expires 290sec mtu 1400 ',
    'cache 9.9.9.9 via 10.0.0.254 dev eth0',
    '\tnexthop via 10.0.0.254 dev eth0 weight 1',
  ].join('\n');
  const routes = parseIpRouteText(text, { table: 7 });
  assert.equal(routes.length, 2);
  assert.deepEqual(routes[0]!.nexthops, [
    { weight: 1, flags: ['dead', 'linkdown'], gateway: '10.0.0.254', dev: 'eth0' },
    { weight: 2, flags: [], gateway: 'fe80::1', dev: 'eth1' },
  ]);
  assert.deepEqual(
    routes.map((r) => [r.table, r.protocol, r.metric]),
    [
      [7, 4, 10],
      [7, 3, 0],
    ],
  );
  const s = importDump([{ name: 'p.txt', text: '$ ip -6 route show table 100\nunreachable default dev lo metric 1024\n' }]);
  assert.deepEqual([s.routes[0]!.family, s.routes[0]!.table], [6, 100]);
});

test('route text: a line it cannot read → ImportError naming the line and its text', () => {
  const text = 'default via 10.0.0.254 dev eth0 \n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 wobble 3\n';
  importError(() => parseIpRouteText(text, { source: 'routes.txt' }), { line: 2, text: /wobble 3$/, reason: /unknown word "wobble"/, source: 'routes.txt' });
  importError(() => parseIpRouteText('ohno dev eth0'), { line: 1, reason: /expected a destination/ });
  importError(() => parseIpRouteText('a\n\tnexthop via 10.0.0.1 dev eth0'), { line: 1 });
  importError(() => parseIpRouteText('\tnexthop via 10.0.0.1 dev eth0'), { line: 1, reason: /without a route above/ });
  importError(() => parseIpRouteText('2001:db8::/64 from 2001:db8:1::/64 via 2001:db8::1 dev eth0 metric 1024 pref medium'), {
    line: 1,
    reason: /source-specific/,
  });
  importError(() => parseIpRouteText('10.0.0.0/8 encap mpls 100 via 10.1.1.1 dev eth0'), { line: 1, reason: /encap/ });
  importError(() => parseIpRouteText('default via 10.0.0.1 dev eth0 table isp1'), { line: 1, reason: /unknown table name "isp1"/ });
});

// ---------------------------------------------------------------- ip -json

test('ip -json: detection of rule, route, addr and link output; mixed families in one pasted array', () => {
  for (const f of ['seed/ip-rule.json', 'seed/ip-route.json', 'seed/ip-addr.json', 'seed/ip-link.json', 'rich/ip-Nd-route.json'])
    assert.equal(detectKind(fx(f)), 'ip-json', f);
  // a jq-merged array: v4 rules, then v6 rules (the v6 part starts again at pref 0)
  const v4 = JSON.parse(fx('rich/ip-rule.json')) as unknown[];
  const v6 = JSON.parse(fx('rich/ip-6-rule.json')) as unknown[];
  const merged = parseIpJson(JSON.stringify([...v4, ...v6])).rules;
  sameSet(merged, [...parseIpJson(fx('rich/ip-rule.json')).rules, ...parseIpJson(fx('rich/ip-6-rule.json'), { family: 6 }).rules]);
  // a route array of both families: each route's family from its addresses (or pref)
  const routes = parseIpJson(fx('rich/ip-route.json')).routes;
  assert.ok(routes.some((r) => r.family === 6 && r.dst === 'default' && r.type === 'unreachable'));
  assert.ok(routes.some((r) => r.family === 4 && r.dst === 'default' && r.type === 'unreachable'));
  // pretty-printed (-p) JSON reads the same
  sameSet(parseIpJson(JSON.stringify(v4, null, 2)).rules, parseIpJson(fx('rich/ip-rule.json')).rules);
});

test('ip -json: bad input → ImportError naming the line of the element', () => {
  const text = '[\n{"priority":0,"src":"all","table":"local"},\n{"priority":5,"src":"all","table":"local","fwmark":"zz"}\n]';
  importError(() => parseIpJson(text, { source: 'r.json' }), { line: 3, text: '{"priority":5,"src":"all","table":"local","fwmark":"zz"}', reason: /fwmark/ });
  importError(() => parseIpJson('[{"priority":0,"src":"all","table":"local"}\n{"oops":1}]'), { line: 2, reason: /invalid JSON|expected/ });
  importError(() => parseIpJson('[{"hello":"world"}]'), { line: 1, reason: /not an `ip -json`/ });
});

// ---------------------------------------------------------------- iptables-save

test('iptables-save: matches — addresses with !, -p, ports, multiport, interfaces with +, mark, connmark, conntrack, state, addrtype, comment, iprange', () => {
  const p = parseIptablesSave(fx('rich/iptables-save.txt'));
  const pre = chain(p, 'ip/mangle/PREROUTING').rules;
  assert.deepEqual(bare(pre[1]), { match: { ctmark: { value: 0, mask: 0xff, not: true } }, actions: [{ kind: 'return' }] });
  assert.deepEqual(bare(pre[2]), { match: { mark: { value: 4, mask: 0xff } }, actions: [{ kind: 'accept' }] });
  assert.deepEqual(bare(pre[3]), { match: { ctstate: { values: ['related', 'established'] } }, actions: [{ kind: 'accept' }] });
  assert.deepEqual(bare(pre[4]), { match: { ctstate: { values: ['new'] } }, actions: [{ kind: 'noop', what: 'LOG' }] });
  assert.deepEqual(bare(pre[5]), { match: { daddrType: { values: ['local'] } }, actions: [{ kind: 'return' }] });
  assert.deepEqual(bare(pre[6]), {
    match: { daddrType: { values: ['unicast'], not: true } },
    actions: [{ kind: 'return' }],
    unsupported: '-m addrtype --limit-iface-in',
  });
  assert.deepEqual(bare(pre[7]), {
    match: {
      saddr: { values: ['192.168.99.0/24'] },
      daddr: { values: ['10.0.0.0/8'], not: true },
      iif: { values: ['eth+'] },
      l4proto: { values: [6] },
      dport: {
        values: [
          { from: 80, to: 80 },
          { from: 443, to: 443 },
          { from: 8000, to: 8080 },
        ],
      },
    },
    actions: [{ kind: 'jump', chain: 'ip/mangle/MH_MARK' }],
    comment: 'office "web"',
  });
  assert.deepEqual(bare(pre[8]), {
    match: { iif: { values: ['eth0'], not: true }, l4proto: { values: [17] }, sport: { values: [{ from: 1000, to: 2000 }] } },
    actions: [{ kind: 'goto', chain: 'ip/mangle/to_isp2' }],
  });
  assert.deepEqual(bare(pre[9]), { match: { saddr: { values: ['10.1.1.1'], not: true }, l4proto: { values: [47] } }, actions: [{ kind: 'drop' }] });
  assert.deepEqual(pre[10]!.match, { l4proto: { values: [6] }, dport: { values: [{ from: 22, to: 22 }], not: true } });
  assert.deepEqual(pre[11]!.match, {
    l4proto: { values: [17] },
    sport: {
      values: [
        { from: 53, to: 53 },
        { from: 123, to: 123 },
      ],
      not: true,
    },
  });
  assert.deepEqual(pre[12]!.match, { saddr: { values: ['10.9.0.1', '10.9.0.2/31', '10.9.0.4/30', '10.9.0.8/31'] } });
  assert.equal(
    pre[7]!.origin,
    '-A PREROUTING -s 192.168.99.0/24 ! -d 10.0.0.0/8 -i eth+ -p tcp -m multiport --dports 80,443,8000:8080 -m comment --comment "office \\"web\\"" -j MH_MARK',
  );
});

test('iptables-save: MARK and CONNMARK targets compute exactly what the kernel does', () => {
  const p = parseIptablesSave(fx('rich/iptables-save.txt'));
  const pre = chain(p, 'ip/mangle/PREROUTING').rules;
  const mh = chain(p, 'ip/mangle/MH_MARK').rules;
  const samples = [0, 1, 0x4, 0xff, 0x1234, 0xffffffff, 0xdeadbeef];
  const check = (a: Action | undefined, kernel: (m: number) => number, what: string) => {
    assert.ok(a, what);
    for (const m of samples) assert.equal(applyMark(a, m), kernel(m) >>> 0, `${what} on ${m.toString(16)}`);
  };
  // saved as --set-xmark V/M: mark = (mark & ~M) ^ V
  check(pre[10]!.actions[0], (m) => m & 0xff00, '--and-mark 0xff00');
  check(pre[11]!.actions[0], (m) => m | 0x10, '--or-mark 0x10');
  check(pre[12]!.actions[0], (m) => m ^ 0x3, '--xor-mark 0x3');
  check(mh[0]!.actions[0], (m) => (m & ~0xff) ^ 0x4, '--set-xmark 0x4/0xff');
  check(mh[1]!.actions[0], (m) => (m & ~0xf0) | 0x8, '--set-mark 0x8/0xf0 (saved as --set-xmark 0x8/0xf8)');
  assert.deepEqual(mh[2]!.actions, [{ kind: 'save-mark', nfmask: 0xff, ctmask: 0xff }]);
  check(mh[3]!.actions[0], (m) => (m & ~0xff) ^ 0x4, 'CONNMARK --set-xmark 0x4/0xff');
  assert.equal(mh[3]!.actions[0]!.kind, 'ctmark');
  check(mh[4]!.actions[0], () => 0x2, 'CONNMARK --set-mark 0x2');
  assert.deepEqual(bare(pre[0]), { match: {}, actions: [{ kind: 'restore-mark', nfmask: 0xff, ctmask: 0xff }] });
  const isp2 = chain(p, 'ip/mangle/to_isp2').rules;
  assert.deepEqual(
    isp2.map((r) => r.actions[0]),
    [
      { kind: 'mark', and: 0, xor: 4 },
      { kind: 'save-mark', nfmask: 0xffffffff, ctmask: 0xffffffff },
      { kind: 'restore-mark', nfmask: 0xff00, ctmask: 0xff00 },
    ],
  );
  // the hand-written forms iptables accepts read the same as what iptables-save prints for them
  const hand = parseIptablesSave(
    [
      '*mangle',
      ':PREROUTING ACCEPT [0:0]',
      '-A PREROUTING -j MARK --set-mark 0x8/0xf0',
      '-A PREROUTING -j MARK --or-mark 0x10',
      '-A PREROUTING -j MARK --and-mark 0xff00',
      '-A PREROUTING -j MARK --xor-mark 3',
      '-A PREROUTING -j CONNMARK --restore-mark --mask 0xff00',
      'COMMIT',
    ].join('\n'),
  );
  assert.deepEqual(
    chain(hand, 'ip/mangle/PREROUTING').rules.map((r) => r.actions[0]),
    [mh[1]!.actions[0], pre[11]!.actions[0], pre[10]!.actions[0], pre[12]!.actions[0], isp2[2]!.actions[0]],
  );
});

test('iptables-save: NAT targets, user chains, filter/raw tables kept, counters (-c), ip6tables', () => {
  const p = parseIptablesSave(fx('rich/iptables-save.txt'));
  assert.deepEqual(
    chain(p, 'ip/nat/PREROUTING').rules.map((r) => r.actions),
    [[{ kind: 'dnat', to: '192.168.99.5', port: 80 }], [{ kind: 'dnat', to: '192.168.99.6' }]],
  );
  const post = chain(p, 'ip/nat/POSTROUTING').rules;
  assert.deepEqual(bare(post[1]), { match: { oif: { values: ['eth5'] }, l4proto: { values: [6] } }, actions: [{ kind: 'snat', to: '67.17.28.12' }] });
  assert.deepEqual(bare(post[2]), {
    match: { oif: { values: ['eth6'] } },
    actions: [{ kind: 'snat', to: '67.17.28.20-67.17.28.22' }],
    unsupported: 'SNAT to an address range 67.17.28.20-67.17.28.22',
  });
  assert.deepEqual(bare(post[3]), { match: { oif: { values: ['ppp+'] } }, actions: [{ kind: 'masquerade' }] });
  assert.deepEqual({ ...chain(p, 'ip/mangle/MH_MARK'), rules: [] }, { name: 'ip/mangle/MH_MARK', rules: [] });
  const fwd = chain(p, 'ip/filter/FORWARD');
  assert.deepEqual([fwd.hook, fwd.priority, fwd.policy, fwd.rules.length], ['forward', 0, 'drop', 3]);
  assert.deepEqual(fwd.rules[2]!.actions, [{ kind: 'drop' }]); // REJECT
  assert.equal(chain(p, 'ip/raw/PREROUTING').priority, -300);
  // -c puts [packets:bytes] before each rule: the same program
  const c = parseIptablesSave(fx('rich/iptables-save-c.txt'));
  assert.deepEqual(
    c.chains.map((ch) => ({ ...ch, rules: ch.rules.map(bare) })),
    p.chains.map((ch) => ({ ...ch, rules: ch.rules.map(bare) })),
  );
  const v6 = parseIptablesSave(fx('rich/ip6tables-save.txt'));
  assert.ok(v6.chains.every((ch) => ch.name.startsWith('ip6/')));
  assert.deepEqual(chain(v6, 'ip6/mangle/PREROUTING').families, [6]);
  assert.deepEqual(chain(v6, 'ip6/mangle/PREROUTING').rules[0]!.match, {
    saddr: { values: ['2001:db8:99::/48'] },
    daddr: { values: ['2001:db8::1'] },
    l4proto: { values: [6] },
    dport: { values: [{ from: 443, to: 443 }] },
  });
  assert.equal(chain(v6, 'ip6/mangle/PREROUTING').rules[1]!.match.l4proto!.values[0], 58);
  assert.deepEqual(chain(v6, 'ip6/nat/PREROUTING').rules[0]!.actions, [{ kind: 'dnat', to: '2001:db8:99::5', port: 8080 }]);
  assert.deepEqual(
    chain(v6, 'ip6/nat/POSTROUTING').rules.map((r) => r.actions[0]),
    [{ kind: 'snat', to: '2001:db8:1::2' }, { kind: 'masquerade' }],
  );
  // without its header, ip6tables-save output is told by its addresses
  const noHeader = fx('rich/ip6tables-save.txt').replace(/^#.*$/gm, '');
  assert.ok(parseIptablesSave(noHeader).chains.every((ch) => ch.name.startsWith('ip6/')));
});

test('iptables-save: unknown targets and matches keep the rule with `unsupported`, never drop it', () => {
  const p = parseIptablesSave(fx('rich/iptables-save.txt'));
  const pre = chain(p, 'ip/mangle/PREROUTING').rules;
  assert.equal(pre.length, 15);
  assert.deepEqual(bare(pre[13]), { match: {}, actions: [{ kind: 'drop' }], unsupported: '-m length --length 0:100' });
  assert.deepEqual(bare(pre[14]), { match: {}, actions: [], unsupported: 'target DSCP --set-dscp 0x08' });
  assert.equal(chain(p, 'ip/mangle/FORWARD').rules[0]!.unsupported, '-m tcp --tcp-flags SYN,RST SYN; target TCPMSS --clamp-mss-to-pmtu');
  assert.equal(chain(p, 'ip/mangle/OUTPUT').rules[1]!.unsupported, '-m owner --uid-owner 1000');
  assert.equal(chain(p, 'ip/nat/POSTROUTING').rules[4]!.unsupported, 'target NETMAP --to 10.0.0.0/24');
  const q = parseIptablesSave(
    '*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOSUCHTARGET --frob 1\n-A PREROUTING -m set --match-set blocked src -j DROP\n-A PREROUTING -g nowhere\nCOMMIT\n',
  );
  assert.deepEqual(chain(q, 'ip/mangle/PREROUTING').rules.map(bare), [
    { match: {}, actions: [], unsupported: 'target NOSUCHTARGET --frob 1' },
    { match: {}, actions: [{ kind: 'drop' }], unsupported: '-m set --match-set blocked src' },
    { match: {}, actions: [], unsupported: 'goto to an unknown chain nowhere' },
  ]);
});

test('iptables: hand-written forms iptables accepts read like the saved ones', () => {
  const p = parseIptablesSave(
    [
      '*mangle',
      ':PREROUTING ACCEPT [0:0]',
      ':mine - [0:0]',
      '-A PREROUTING -p tcp -m comment --comment x --dport 80 -j ACCEPT',
      '--append PREROUTING --source 10.0.0.0/255.0.0.0,192.168.1.7 --protocol udp --sport 53: --jump mine',
      '-A PREROUTING -p all -s 10.0.0.5/8 -j MARK --set-mark 1',
      '-A PREROUTING -i eth0 ! -p tcp -j DNAT --to-destination :8080',
      'COMMIT',
    ].join('\n'),
  );
  assert.deepEqual(chain(p, 'ip/mangle/PREROUTING').rules.map(bare), [
    { match: { l4proto: { values: [6] }, dport: { values: [{ from: 80, to: 80 }] } }, actions: [{ kind: 'accept' }], comment: 'x' },
    {
      match: { saddr: { values: ['10.0.0.0/8', '192.168.1.7'] }, l4proto: { values: [17] }, sport: { values: [{ from: 53, to: 65535 }] } },
      actions: [{ kind: 'jump', chain: 'ip/mangle/mine' }],
    },
    { match: { saddr: { values: ['10.0.0.0/8'] } }, actions: [{ kind: 'mark', and: 0, xor: 1 }] },
    {
      match: { iif: { values: ['eth0'] }, l4proto: { values: [6], not: true } },
      actions: [{ kind: 'dnat', to: '', port: 8080 }],
      unsupported: 'DNAT to ports only',
    },
  ]);
});

test('iptables-save: a line it cannot read → ImportError naming the line and its text', () => {
  const base = ['# Generated by iptables-save', '*mangle', ':PREROUTING ACCEPT [0:0]'];
  importError(() => parseIptablesSave([...base, '-A PREROUTING -s not-an-address -j ACCEPT', 'COMMIT'].join('\n'), { source: 'ipt' }), {
    line: 4,
    text: '-A PREROUTING -s not-an-address -j ACCEPT',
    reason: /cannot read address/,
    source: 'ipt',
  });
  importError(() => parseIptablesSave([...base, '-A NOCHAIN -j ACCEPT'].join('\n')), { line: 4, reason: /not declared/ });
  importError(() => parseIptablesSave([...base, 'iptables -t mangle -A PREROUTING -j ACCEPT'].join('\n')), { line: 4, reason: /not an iptables-save line/ });
  importError(() => parseIptablesSave([...base, '-A PREROUTING -j MARK --set-xmark banana'].join('\n')), { line: 4, reason: /cannot read mark/ });
  importError(() => parseIptablesSave([...base, '-A PREROUTING -m comment --comment "unclosed -j ACCEPT'].join('\n')), { line: 4, reason: /quote/ });
  importError(() => parseIptablesSave('-A PREROUTING -j ACCEPT'), { line: 1, reason: /outside a table/ });
  importError(() => parseIptablesSave([...base, '-A PREROUTING -p tcp --dport 80:70 -j ACCEPT'].join('\n')), { line: 4, reason: /port/ });
});

// ---------------------------------------------------------------- nft -j

/** Program chains of multihome's own table with the "inet/multihome/" prefix taken off, as compile names them. */
function ownChains(p: Program): Chain[] {
  const strip = (n: string) => n.replace(/^inet\/multihome\//, '');
  const sortEntries = (a: Action): Action =>
    a.kind === 'vmap' ? { ...a, entries: [...a.entries].sort((x, y) => String(x.key).localeCompare(String(y.key))) } : a;
  return p.chains
    .filter((c) => c.name !== 'inet/multihome/fingerprint')
    .map((c) => ({
      ...c,
      name: strip(c.name),
      rules: c.rules.map((r) => {
        const { origin: _o, ...rest } = r;
        return {
          ...rest,
          ...(rest.match.inSet ? { match: { ...rest.match, inSet: { ...rest.match.inSet, set: strip(rest.match.inSet.set) } } } : {}),
          actions: r.actions.map((a) =>
            sortEntries(
              a.kind === 'jump' || a.kind === 'goto'
                ? { ...a, chain: strip(a.chain) }
                : a.kind === 'vmap' || a.kind === 'balance'
                  ? ({
                      ...a,
                      entries: a.entries.map((e) => ({ ...e, chain: strip(e.chain) })),
                      ...(a.kind === 'balance' && a.map ? { map: a.map.map(strip) } : {}),
                    } as Action)
                  : a.kind === 'remember'
                    ? { ...a, set: strip(a.set) }
                    : a,
            ),
          ),
        };
      }),
    }));
}

const goldenDir = repoPath('test', 'golden', 'cases');
for (const name of fs.readdirSync(goldenDir).sort()) {
  test(`nft -j of multihome's own table (${name}) imports as the program compile made it`, () => {
    const dir = path.join(goldenDir, name);
    const file = path.join(dir, 'config.yaml');
    const r = parseConfig(fs.readFileSync(file, 'utf8'), file);
    assert.ok(r.ok);
    const facts = JSON.parse(fs.readFileSync(path.join(dir, 'facts.json'), 'utf8')) as SystemFacts;
    const compiled = compile(r.config, facts).program!;
    const imported = parseNftJson(fx(`nft/${name}.json`));
    assert.ok(imported.chains.every((c) => c.rules.every((x) => !x.unsupported)));
    const norm = (p: Chain[]) => JSON.parse(stableStringify(p.map((c) => ({ ...c, rules: c.rules.map((x) => ({ ...x, origin: undefined })) })))) as unknown;
    assert.deepEqual(norm(ownChains(imported)), norm(ownChains(compiled)));
  });
}

test('nft -j: base chains keep hook/type/priority/policy/families; names are family/table/chain', () => {
  const p = parseNftJson(fx('rich/nft.json'));
  assert.deepEqual(
    p.chains.map((c) => [c.name, c.hook, c.type, c.priority, c.families, c.policy]),
    [
      ['inet/mix/pre', 'prerouting', 'filter', -150, [4, 6], 'accept'],
      ['inet/mix/to_a', undefined, undefined, undefined, undefined, undefined],
      ['inet/mix/to_b', undefined, undefined, undefined, undefined, undefined],
      ['inet/mix/out', 'output', 'route', -150, [4, 6], 'accept'],
      ['inet/mix/post', 'postrouting', 'nat', 100, [4, 6], 'accept'],
      ['inet/mix/dnat_in', 'prerouting', 'nat', -100, [4, 6], 'accept'],
      ['ip/filt/forward_f', 'forward', 'filter', 0, [4], 'drop'],
      ['ip6/six/pre', 'prerouting', 'filter', -160, [6], 'accept'],
    ],
  );
  assert.equal(chain(p, 'inet/mix/pre').rules[0]!.origin, 'inet/mix/pre handle 10');
});

test('nft -j: mark statements — set, |, &, ^, restore (meta mark set ct mark), save (ct mark set meta mark), masked', () => {
  const pre = chain(parseNftJson(fx('rich/nft.json')), 'inet/mix/pre').rules;
  assert.deepEqual(bare(pre[0]), { match: {}, actions: [{ kind: 'restore-mark', nfmask: 0xffffffff, ctmask: 0xffffffff }], comment: 'restore' });
  assert.deepEqual(pre[1]!.actions, [{ kind: 'restore-mark', nfmask: 0xffffffff, ctmask: 0xff00 }]);
  assert.deepEqual(
    pre.slice(17, 23).map((r) => r.actions),
    [
      [{ kind: 'mark', and: 0, xor: 0x10 }],
      [{ kind: 'mark', and: ~0x20 >>> 0, xor: 0x20 }],
      [{ kind: 'mark', and: 0xff, xor: 0 }],
      [{ kind: 'mark', and: 0xffffffff, xor: 3 }],
      [{ kind: 'save-mark', nfmask: 0xffffffff, ctmask: 0xffffffff }],
      [{ kind: 'save-mark', nfmask: 0xff, ctmask: 0xffffffff }],
    ],
  );
  assert.deepEqual(bare(pre[23]), { match: {}, actions: [], unsupported: 'meta mark set {"numgen":{"mode":"inc","mod":2,"offset":0}}' });
  // nft folds "& 0xffffff00 | 0x01" into "& 0xffffff01 | 0x01": still (mark & 0xffffff00) ^ 1
  assert.deepEqual(linear({ '|': [{ '&': [{ meta: { key: 'mark' } }, 0xffffff01] }, 1] }), { mark: 0xffffff00, ctmark: 0, c: 1 });
  assert.deepEqual(linear({ '|': [{ '&': [{ meta: { key: 'mark' } }, 0xff00] }, { '&': [{ ct: { key: 'mark' } }, 0xff] }] }), {
    mark: 0xff00,
    ctmark: 0xff,
    c: 0,
  });
  assert.equal(linear({ '|': [{ meta: { key: 'mark' } }, { ct: { key: 'mark' } }] }), null);
});

test('nft -j: matches — named and anonymous sets, ranges, prefixes, negation, wildcards, ct state, fib, l4proto, comparisons', () => {
  const pre = chain(parseNftJson(fx('rich/nft.json')), 'inet/mix/pre').rules;
  assert.deepEqual(bare(pre[2]), {
    match: {},
    actions: [
      {
        kind: 'vmap',
        key: 'ctmark',
        mask: 0xff00,
        entries: [
          { key: 0x100, verdict: 'jump', chain: 'inet/mix/to_a' },
          { key: 0x200, verdict: 'goto', chain: 'inet/mix/to_b' },
        ],
      },
    ],
  });
  assert.deepEqual(pre[3]!.match, { mark: { value: 1, mask: 0xff } });
  assert.deepEqual(pre[4]!.match, { mark: { value: 0, mask: 0xffffffff, not: true } });
  assert.deepEqual(pre[4]!.actions, [{ kind: 'noop', what: 'counter' }, { kind: 'return' }]);
  assert.deepEqual(pre[5]!.match, { ctstate: { values: ['established', 'related'] } });
  assert.deepEqual(pre[6]!.match, { ctstate: { values: ['new', 'untracked'] } });
  assert.deepEqual(pre[7]!.match, {
    iif: { values: ['eth*'] },
    family: 4,
    saddr: { values: ['10.0.0.0/8', '172.16.0.1', '192.168.1.10/31', '192.168.1.12/30', '192.168.1.16/30', '192.168.1.20'] },
    l4proto: { values: [6] },
    dport: {
      values: [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
        { from: 8000, to: 8080 },
      ],
    },
  });
  assert.deepEqual(bare(pre[8]), {
    match: {
      iif: { values: ['lo', 'eth0'], not: true },
      family: 4,
      daddr: { values: ['10.1.2.0/24'], not: true },
      l4proto: { values: [17] },
      sport: { values: [{ from: 1000, to: 2000 }] },
    },
    actions: [{ kind: 'goto', chain: 'inet/mix/to_b' }],
  });
  assert.deepEqual(pre[10]!.match, {
    family: 6,
    daddr: { values: ['2001:db8::/32'] },
    l4proto: { values: [17] },
    dport: {
      values: [
        { from: 53, to: 53 },
        { from: 5353, to: 5353 },
      ],
    },
  });
  assert.deepEqual(pre[11]!.match, { l4proto: { values: [6], not: true }, dport: { values: [{ from: 100, to: 100 }] } });
  assert.deepEqual(pre[12]!.match, { daddrType: { values: ['local'] } });
  assert.equal(pre[13]!.unsupported, 'fib daddr . iif type');
  assert.deepEqual(pre[14]!.actions, [
    {
      kind: 'vmap',
      key: 'mark',
      entries: [
        { key: 1, verdict: 'jump', chain: 'inet/mix/to_a' },
        { key: 2, verdict: 'goto', chain: 'inet/mix/to_b' },
      ],
    },
  ]);
  assert.equal(pre[15]!.unsupported, 'match on ip dscp');
  assert.equal(pre[16]!.unsupported, 'match on tcp flags');
  assert.equal(pre[24]!.unsupported, 'statement limit');
  assert.deepEqual(pre[25]!.match, { l4proto: { values: [6] }, dport: { values: [{ from: 0, to: 1023 }] } });
  assert.deepEqual(bare(pre[26]), { match: { ctmark: { value: 5, mask: 0xffffffff } }, actions: [{ kind: 'mark', and: 0, xor: 6 }] });
  assert.deepEqual(pre[27]!.match, { family: 6, saddr: { values: ['fe80::/10'] } });
  assert.deepEqual(pre[28]!.match, { iif: { values: ['lo'] } });
});

test('nft -j: NAT statements, oifname vmap, reject, ip/ip6 tables', () => {
  const p = parseNftJson(fx('rich/nft.json'));
  assert.deepEqual(chain(p, 'inet/mix/post').rules.map(bare), [
    { match: { oif: { values: ['eth1'] } }, actions: [{ kind: 'masquerade' }] },
    { match: { oif: { values: ['eth2'] }, l4proto: { values: [6] }, family: 4 }, actions: [{ kind: 'snat', to: '1.2.3.4' }] },
    {
      match: { oif: { values: ['eth3'] }, family: 4 },
      actions: [{ kind: 'snat', to: '1.2.3.4-1.2.3.6' }],
      unsupported: 'snat to an address range 1.2.3.4-1.2.3.6',
    },
    { match: { oif: { values: ['eth4'] }, family: 6 }, actions: [{ kind: 'snat', to: '2001:db8::1' }] },
    { match: {}, actions: [{ kind: 'vmap', key: 'oif', entries: [{ key: 'eth5', verdict: 'jump', chain: 'inet/mix/to_b' }] }] },
  ]);
  assert.deepEqual(
    chain(p, 'inet/mix/dnat_in').rules.map((r) => r.actions),
    [[{ kind: 'dnat', to: '192.168.1.5', port: 80 }], [{ kind: 'dnat', to: '10.0.0.2' }], [{ kind: 'dnat', to: '2001:db8::5', port: 2323 }]],
  );
  assert.deepEqual(chain(p, 'ip/filt/forward_f').rules.map(bare), [
    { match: { ctstate: { values: ['established'] } }, actions: [{ kind: 'accept' }] },
    { match: {}, actions: [{ kind: 'drop' }] },
  ]);
  // in an ip6 table the family is the table's: no per-rule family
  assert.deepEqual(bare(chain(p, 'ip6/six/pre').rules[0]), { match: { saddr: { values: ['2001:db8::/64'] } }, actions: [{ kind: 'mark', and: 0, xor: 7 }] });
});

test('nft -j: iptables-nft tables next to native ones; structure errors are ImportErrors', () => {
  const all = parseNftJson(fx('rich/nft-all.json'));
  assert.ok(all.chains.some((c) => c.name === 'ip/mangle/PREROUTING'));
  assert.ok(all.chains.some((c) => c.name === 'inet/mix/pre'));
  const xt = all.chains.flatMap((c) => c.rules).filter((r) => /iptables-nft/.test(r.unsupported ?? ''));
  assert.ok(xt.length > 10);
  importError(() => parseNftJson('{"foo": []}', { source: 'n.json' }), { line: 1, reason: /no "nftables" list/, source: 'n.json' });
  importError(() => parseNftJson('{"nftables":[{"rule":{"family":"inet","table":"t","chain":"c","handle":1,"expr":[]}}]}'), {
    line: 1,
    reason: /does not list/,
  });
  importError(() => parseNftJson('{"nftables": [\n'), { line: 1, reason: /unfinished/ });
});

// ---------------------------------------------------------------- detection and importDump

test('detectKind: each fixture is told by its content', () => {
  const want: [string, string][] = [
    ['seed/ip-rule.txt', 'ip-rule'],
    ['seed/ip-6-rule.txt', 'ip-rule'],
    ['seed/ip-d-rule.txt', 'ip-rule'],
    ['rich/ip-N-rule.txt', 'ip-rule'],
    ['seed/ip-route.txt', 'ip-route'],
    ['rich/ip-Nd-route.txt', 'ip-route'],
    ['rich/ip-d-route.txt', 'ip-route'],
    ['seed/ip-rule.json', 'ip-json'],
    ['seed/ip-addr.json', 'ip-json'],
    ['seed/iptables-save.txt', 'iptables-save'],
    ['rich/iptables-save-c.txt', 'iptables-save'],
    ['rich/ip6tables-save.txt', 'iptables-save'],
    ['seed/nft.json', 'nft-json'],
    ['nft/seed.json', 'nft-json'],
    ['seed/sysctl.txt', 'sysctl'],
  ];
  for (const [f, k] of want) assert.equal(detectKind(fx(f)), k, f);
  assert.equal(detectKind('255\tlocal\n254\tmain\n4 isp2\n'), 'rt-tables');
  assert.equal(detectKind('hello world'), null);
});

test('prompt lines: the command says what its output is', () => {
  assert.equal(promptCommand('root@router:~# ip -6 rule show'), 'ip -6 rule show');
  assert.equal(promptCommand('[root@gw ~]# sudo iptables-save'), 'iptables-save');
  assert.equal(promptCommand('$ nft -j list ruleset'), 'nft -j list ruleset');
  assert.equal(promptCommand('# Generated by iptables-save v1.8.9'), null);
  assert.equal(promptCommand('0:\tfrom all lookup local'), null);
  assert.deepEqual(commandKind('ip -6 route show table 100'), { kind: 'ip-route', family: 6, table: 100 });
  assert.deepEqual(commandKind('ip ro sh table all'), { kind: 'ip-route' });
  assert.deepEqual(commandKind('ip -d -j -N ru'), { kind: 'ip-json' });
  assert.deepEqual(commandKind('ip -n mhns -4 r'), { kind: 'ip-route', family: 4 });
  assert.deepEqual(commandKind('ip6tables-save -c'), { kind: 'iptables-save', family: 6 });
  assert.deepEqual(commandKind('cat /etc/iproute2/rt_tables'), { kind: 'rt-tables' });
  assert.match((commandKind('ip addr show') as { error: string }).error, /ip -j addr show/);
  assert.match((commandKind('nft list ruleset') as { error: string }).error, /nft -j list ruleset/);
});

test('importDump: merges every kind into one State, rules in kernel order, duplicates once', () => {
  const files = [
    { name: 'rule.txt', text: fx('seed/ip-rule.txt') },
    { name: 'rule.json', text: fx('seed/ip-rule.json') },
    { name: 'route.txt', text: fx('seed/ip-route.txt') },
    { name: 'addr.json', text: fx('seed/ip-addr.json') },
    { name: 'iptables', text: fx('seed/iptables-save.txt') },
    { name: 'nft.json', text: fx('nft/seed.json') },
    { name: 'sysctl', text: fx('seed/sysctl.txt') },
  ];
  const s = importDump(files);
  assert.equal(s.rules.length, 4);
  assert.equal(s.routes.length, 24);
  assert.equal(s.links.length, 4);
  assert.equal(s.sysctls['net/ipv4/ip_forward'], '1');
  assert.equal(s.nft, null);
  assert.ok(s.program!.chains.some((c) => c.name === 'ip/nat/POSTROUTING'));
  assert.ok(s.program!.chains.some((c) => c.name === 'inet/multihome/prerouting'));
  // equal prefs keep the order the dump printed (the kernel's)
  const same = importDump([{ name: 'r', text: '0:\tfrom all lookup local\n100:\tfrom all lookup 20\n100:\tfrom all lookup 10\n' }]);
  assert.deepEqual(
    same.rules.map((r) => r.table),
    [255, 20, 10],
  );
  // no netfilter dump: no program
  assert.equal(importDump([{ name: 'r', text: fx('seed/ip-rule.txt') }]).program, undefined);
});

test('importDump: errors name the file and the line', () => {
  importError(
    () =>
      importDump([
        { name: 'ok.txt', text: fx('seed/ip-rule.txt') },
        { name: 'notes.txt', text: '\n\nsome notes here\n' },
      ]),
    { line: 3, text: 'some notes here', reason: /cannot tell what this is/, source: 'notes.txt' },
  );
  // inside a paste: the line in the whole file
  const paste = 'root@r:~# ip rule show\n0:\tfrom all lookup local\n32766:\tfrom all lookup main zzz\n';
  importError(() => importDump([{ name: 'paste.txt', text: paste }]), { line: 3, reason: /unknown word "zzz"/, source: 'paste.txt' });
  importError(() => importDump([{ name: 'p.txt', text: 'root@r:~# ip addr\n1: lo: <LOOPBACK,UP>\n' }]), {
    line: 1,
    reason: /ip -j addr show/,
    source: 'p.txt',
  });
  // the same nft ruleset twice
  importError(
    () =>
      importDump([
        { name: 'a.json', text: fx('nft/seed.json') },
        { name: 'b.json', text: fx('nft/seed.json') },
      ]),
    { line: 1, reason: /also in a\.json/, source: 'b.json' },
  );
});

test('address ranges become the fewest covering prefixes', () => {
  assert.deepEqual(rangeToPrefixes('10.0.0.0', '10.0.0.255')!.map(programPrefix), ['10.0.0.0/24']);
  assert.deepEqual(rangeToPrefixes('10.0.0.1', '10.0.0.6')!.map(programPrefix), ['10.0.0.1', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6']);
  assert.deepEqual(rangeToPrefixes('0.0.0.0', '255.255.255.255')!.map(programPrefix), ['0.0.0.0/0']);
  assert.deepEqual(rangeToPrefixes('2001:db8::', '2001:db8::1')!.map(programPrefix), ['2001:db8::/127']);
  assert.equal(rangeToPrefixes('10.0.0.9', '10.0.0.1'), null);
});
