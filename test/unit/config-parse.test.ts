import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/parse.js';
import { formatIssue, type SourceIssue } from '../../src/errors/index.js';
import { parseAddress, parsePrefix, type Address, type Prefix } from '../../src/net/ip.js';

// dist/test/unit/ → repository root
const fixtures = new URL('../../../test/fixtures/config/', import.meta.url);
const seedUrl = new URL('../../../examples/seed.yaml', import.meta.url);

const readFixture = (name: string): string => fs.readFileSync(new URL(name, fixtures), 'utf8');

/** Parse a fixture that must be rejected; returns its issues. */
function issuesOf(name: string): SourceIssue[] {
  const r = parseConfig(readFixture(name), name);
  assert.equal(r.ok, false, `${name} should be rejected`);
  assert.ok(!r.ok);
  for (const i of r.issues) assert.equal(i.file, name);
  return r.issues;
}

interface Want {
  line: number;
  col: number;
  /** a substring of the message */
  message: string;
  /** the exact hint; undefined when there must be none */
  hint?: string;
}

function check(issue: SourceIssue | undefined, want: Want): void {
  assert.ok(issue, `expected an issue at ${want.line}:${want.col}`);
  const where = `${issue.line}:${issue.col} ${issue.message}`;
  assert.equal(issue.line, want.line, `line of ${where}`);
  assert.equal(issue.col, want.col, `column of ${where}`);
  assert.ok(issue.message.includes(want.message), `message ${JSON.stringify(issue.message)} should contain ${JSON.stringify(want.message)}`);
  assert.equal(issue.hint, want.hint, `hint of ${where}`);
}

/** The fixture yields exactly these issues, in this order. */
function expectIssues(name: string, wants: Want[]): SourceIssue[] {
  const issues = issuesOf(name);
  assert.equal(issues.length, wants.length, `${name}: ${issues.map((i) => `\n  ${i.line}:${i.col} ${i.message}`).join('')}`);
  wants.forEach((w, k) => check(issues[k], w));
  return issues;
}

/** Parse text that must be accepted. */
function parseOk(text: string) {
  const r = parseConfig(text, 'test.yaml');
  assert.ok(r.ok, `should parse: ${r.ok ? '' : r.issues.map(formatIssue).join('\n')}`);
  return r.config;
}

const ip = (t: string): Address => {
  const a = parseAddress(t);
  assert.ok(a);
  return a;
};
const net = (t: string): Prefix => {
  const r = parsePrefix(t);
  assert.ok(r.ok);
  return r.prefix;
};

// ---------------------------------------------------------------- fixtures

test('fixtures: the directory resolves from dist/test/unit and every bad-*.yaml is rejected', () => {
  assert.equal(fileURLToPath(fixtures).replace(/\/$/, '').split('/').slice(-3).join('/'), 'test/fixtures/config');
  const names = fs.readdirSync(fixtures).filter((n) => n.startsWith('bad-') && n.endsWith('.yaml'));
  assert.ok(names.length >= 30, `found only ${names.length} fixtures`);
  for (const n of names) {
    const r = parseConfig(readFixture(n), n);
    assert.equal(r.ok, false, `${n} should be rejected`);
    if (!r.ok) assert.ok(r.issues.length > 0);
  }
});

// ---------------------------------------------------------------- broken YAML

test('YAML: bad indentation is reported where the parser notices it', () => {
  const [i] = expectIssues('bad-yaml-indent.yaml', [{ line: 4, col: 1, message: 'All mapping items must start at the same column' }]);
  assert.ok(i!.message.startsWith('YAML: '));
  assert.deepEqual(i!.path, []);
  assert.equal(i!.source?.text, '   gateway: 203.0.113.1');
});

test('YAML: an unclosed flow map', () => {
  const [i] = expectIssues('bad-yaml-flow.yaml', [{ line: 3, col: 1, message: 'Flow map in block collection must be sufficiently indented and end with a }' }]);
  assert.ok(i!.message.startsWith('YAML: '));
  // only the first line of the YAML library's message
  assert.ok(!i!.message.includes('\n'));
});

test('YAML: a duplicate key', () => {
  expectIssues('bad-yaml-duplicate-key.yaml', [{ line: 3, col: 3, message: 'YAML: Map keys must be unique' }]);
});

// ---------------------------------------------------------------- wrong types

test('wrong type: gateway: 5 is rejected with a single issue on its line', () => {
  const issues = issuesOf('bad-gateway-type.yaml');
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.line, 4);
});

test('wrong type: gateway: 5 says an address is expected, at the value', () => {
  expectIssues('bad-gateway-type.yaml', [{ line: 4, col: 14, message: 'expected an IPv4 or IPv6 address' }]);
});

test('wrong type: policies that are not a list are rejected', () => {
  assert.equal(issuesOf('bad-policies-not-list.yaml').length, 1);
});

test('wrong type: policies that are not a list say a list is expected, at the value', () => {
  expectIssues('bad-policies-not-list.yaml', [{ line: 5, col: 3, message: 'expected a list of policies' }]);
});

test('missing required key: pointed at the object that lacks it', () => {
  expectIssues('bad-missing-via.yaml', [{ line: 5, col: 5, message: 'missing required key "via"' }]);
});

// ---------------------------------------------------------------- unknown keys

test('unknown provider key with "did you mean", and no second error for the required key it should have been', () => {
  const issues = expectIssues('bad-unknown-key-provider.yaml', [{ line: 4, col: 5, message: 'unknown key "gatway"', hint: 'did you mean "gateway"?' }]);
  assert.deepEqual(issues[0]!.path, ['providers', 'isp1', 'gatway']);
  assert.deepEqual(issues[0]!.source, { text: '    gatway: 203.0.113.1', start: 4, length: 6 });
});

test('unknown top-level key with "did you mean"', () => {
  expectIssues('bad-unknown-key-top.yaml', [{ line: 4, col: 1, message: 'unknown key "polices"', hint: 'did you mean "policies"?' }]);
});

test('unknown key in match with "did you mean"', () => {
  expectIssues('bad-unknown-key-match.yaml', [{ line: 6, col: 29, message: 'unknown key "dprot"', hint: 'did you mean "dport"?' }]);
});

test('unknown key with nothing close lists the known keys', () => {
  expectIssues('bad-unknown-key-no-guess.yaml', [
    {
      line: 2,
      col: 50,
      message: 'unknown key "colour"',
      hint: 'known keys here: interface, gateway, snat, table, mark, routes, health, delegated, metered, quota',
    },
  ]);
});

// ---------------------------------------------------------------- unknown providers

test('via naming an unknown provider, with a suggestion', () => {
  expectIssues('bad-via-unknown.yaml', [{ line: 7, col: 10, message: 'via names unknown provider or group "ips2"', hint: 'did you mean "isp2"?' }]);
});

test('default naming an unknown provider, with a suggestion', () => {
  expectIssues('bad-default-unknown.yaml', [{ line: 4, col: 10, message: 'default names unknown provider or group "isp3"', hint: 'did you mean "isp1"?' }]);
});

// ---------------------------------------------------------------- field values

test('bad prefix: not an address', () => {
  expectIssues('bad-prefix-not-address.yaml', [
    { line: 6, col: 20, message: '"192.168.300.0" is not an IPv4 or IPv6 address', hint: 'a prefix such as 192.168.99.0/24 or 2001:db8::/64' },
  ]);
});

test('bad prefix: host bits set, with the network to write', () => {
  const [i] = expectIssues('bad-prefix-host-bits.yaml', [{ line: 7, col: 13, message: '"192.168.99.5/24" has host bits set', hint: 'write 192.168.99.0/24' }]);
  assert.deepEqual(i!.path, ['policies', 0, 'match', 'from', 0]);
  assert.equal(
    formatIssue(i!),
    [
      'bad-prefix-host-bits.yaml:7:13: error: "192.168.99.5/24" has host bits set',
      '        from: 192.168.99.5/24',
      '              ^^^^^^^^^^^^^^^',
      '  hint: write 192.168.99.0/24',
    ].join('\n'),
  );
});

test('bad prefix: "default" in a match has no family', () => {
  expectIssues('bad-prefix-default.yaml', [{ line: 6, col: 18, message: '"default" needs a family here', hint: 'write 0.0.0.0/0 or ::/0' }]);
});

test('bad port: 70000 in a list', () => {
  const [i] = expectIssues('bad-port-too-big.yaml', [{ line: 6, col: 41, message: 'port 70000 must be a whole number from 1 to 65535' }]);
  assert.deepEqual(i!.path, ['policies', 0, 'match', 'dport', 1]);
});

test('bad port: a backwards range', () => {
  expectIssues('bad-port-backwards.yaml', [{ line: 8, col: 14, message: '"90-80": the range runs backwards; write "80-90"' }]);
});

test('unknown protocol, with a suggestion', () => {
  expectIssues('bad-protocol.yaml', [{ line: 6, col: 24, message: 'unknown protocol "tcpp"', hint: 'did you mean "tcp"?' }]);
});

test('two gateways of one family', () => {
  expectIssues('bad-two-v4-gateways.yaml', [{ line: 2, col: 37, message: 'two IPv4 gateways; give at most one per address family' }]);
});

// ---------------------------------------------------------------- tables and marks

test('reserved tables 0, 253, 254 and 255', () => {
  const hint = 'pick another id, e.g. 100, or leave table out to have one assigned';
  expectIssues('bad-table-reserved.yaml', [
    { line: 2, col: 54, message: 'table 0 is reserved for the kernel\'s "unspec" table', hint },
    { line: 3, col: 54, message: 'table 253 is reserved for the kernel\'s "default" table', hint },
    { line: 4, col: 54, message: 'table 254 is reserved for the kernel\'s "main" table', hint },
    { line: 5, col: 54, message: 'table 255 is reserved for the kernel\'s "local" table', hint },
  ]);
});

test('duplicate table', () => {
  expectIssues('bad-table-duplicate.yaml', [
    { line: 3, col: 58, message: 'table 100 is already used by provider "isp1"', hint: 'give each provider its own table, or leave table out' },
  ]);
});

test('duplicate marks (0x10 and 16 are the same mark)', () => {
  expectIssues('bad-mark-duplicate.yaml', [
    { line: 3, col: 57, message: 'mark 0x10 is already used by provider "isp1"', hint: 'give each provider its own mark, or leave mark out' },
  ]);
});

test('mark outside mark_mask', () => {
  expectIssues('bad-mark-outside-mask.yaml', [
    { line: 3, col: 56, message: 'mark 0x4 has bits outside mark_mask 0xff00', hint: 'use a value within the mask (e.g. 0x100), or widen mark_mask' },
  ]);
});

test('mark 0', () => {
  expectIssues('bad-mark-zero.yaml', [
    { line: 2, col: 56, message: 'mark 0 means "unmarked" and cannot name a provider', hint: 'pick a value within mark_mask, or leave mark out' },
  ]);
});

test('mark_mask too narrow for the providers', () => {
  expectIssues('bad-mark-mask-room.yaml', [
    { line: 1, col: 12, message: 'mark_mask 0x1 leaves room for 1 mark, but 2 providers need 2', hint: 'widen mark_mask (e.g. 0xff)' },
  ]);
});

// ---------------------------------------------------------------- providers and policies

test('duplicate policy names', () => {
  expectIssues('bad-policy-duplicate-name.yaml', [
    { line: 7, col: 11, message: 'policy name "web" is already used by policy #1', hint: 'give each policy a unique name' },
  ]);
});

test('two providers on one interface', () => {
  expectIssues('bad-interface-shared.yaml', [
    { line: 3, col: 22, message: 'interface eth1 is already the uplink of provider "isp1"', hint: 'each provider needs an interface of its own' },
  ]);
});

test('ports with protocol icmp', () => {
  expectIssues('bad-ports-icmp.yaml', [
    {
      line: 6,
      col: 24,
      message: 'ports are matched but protocol icmp has no ports',
      hint: 'use tcp, udp, sctp or udplite with sport/dport, or drop the ports',
    },
  ]);
});

test('an IPv6 SNAT address without an IPv6 gateway', () => {
  expectIssues('bad-snat-v6-no-gateway.yaml', [
    { line: 5, col: 11, message: 'an IPv6 SNAT address but no IPv6 gateway', hint: 'add the IPv6 gateway to gateway: [...], or remove the address' },
  ]);
});

test('from and to with no family in common', () => {
  expectIssues('bad-policy-families.yaml', [
    {
      line: 6,
      col: 12,
      message: 'from and to have no address family in common, so the policy can never match',
      hint: 'list IPv4 and IPv6 prefixes in both, or split the policy',
    },
  ]);
});

test('a policy matching IPv6 via a provider with only an IPv4 gateway', () => {
  expectIssues('bad-policy-v6-via-v4.yaml', [
    {
      line: 7,
      col: 10,
      message: 'the policy matches IPv6 prefixes but provider "isp1" has no IPv6 gateway',
      hint: 'add an IPv6 gateway to "isp1", or move those prefixes to a policy via another provider',
    },
  ]);
});

test("iif naming a provider's own interface, in a list and alone", () => {
  const hint = 'match on the LAN side interface instead';
  const issues = expectIssues('bad-iif-uplink.yaml', [
    { line: 7, col: 26, message: 'eth2 is the uplink of provider "isp2"', hint },
    { line: 10, col: 19, message: 'eth1 is the uplink of provider "isp1"', hint },
  ]);
  assert.deepEqual(issues[0]!.path, ['policies', 0, 'match', 'iif', 1]);
  assert.deepEqual(issues[1]!.path, ['policies', 1, 'match', 'iif']);
});

test('several errors in one file are all reported, sorted by line and column', () => {
  const issues = expectIssues('bad-many.yaml', [
    { line: 3, col: 57, message: 'table 254 is reserved', hint: 'pick another id, e.g. 100, or leave table out to have one assigned' },
    { line: 4, col: 22, message: 'interface eth1 is already the uplink of provider "isp1"', hint: 'each provider needs an interface of its own' },
    { line: 4, col: 57, message: 'mark 0x4 has bits outside mark_mask 0xff00', hint: 'use a value within the mask (e.g. 0x100), or widen mark_mask' },
    { line: 5, col: 28, message: 'unknown key "gatway"', hint: 'did you mean "gateway"?' },
    { line: 6, col: 10, message: 'default names unknown provider or group "isp9"', hint: 'did you mean "isp1"?' },
    { line: 9, col: 20, message: '"10.0.0.1/8" has host bits set', hint: 'write 10.0.0.0/8' },
    { line: 9, col: 39, message: 'the range runs backwards; write "80-90"' },
    {
      line: 12,
      col: 24,
      message: 'ports are matched but protocol icmp has no ports',
      hint: 'use tcp, udp, sctp or udplite with sport/dport, or drop the ports',
    },
    // isp3 failed to parse but is still a known name, so it is listed
    { line: 13, col: 10, message: 'via names unknown provider or group "nobody"', hint: 'defined providers and groups: isp1, isp2, isp3' },
  ]);
  assert.equal(issues.length, 9);
  for (let k = 1; k < issues.length; k++) {
    const [a, b] = [issues[k - 1]!, issues[k]!];
    assert.ok(a.line < b.line || (a.line === b.line && a.col < b.col), `issue ${k} is out of order`);
  }
});

test('a provider that fails to parse is not also reported as unknown where it is used', () => {
  const r = parseConfig(
    'providers:\n  isp1: { interface: eth1, gateway: 203.0.113.1 }\n  isp2: { interface: eth2, gateway: nope }\ndefault: isp2\npolicies:\n  - name: web\n    via: isp2\n',
    'x.yaml',
  );
  assert.ok(!r.ok);
  assert.equal(r.issues.length, 1, r.issues.map(formatIssue).join('\n'));
  check(r.issues[0], { line: 3, col: 37, message: '"nope" is not an IPv4 or IPv6 address', hint: 'an address such as 203.0.113.1 or 2001:db8::1' });
});

test('an empty file asks for providers and default', () => {
  const r = parseConfig('', 'empty.yaml');
  assert.ok(!r.ok);
  const messages = r.issues.map((i) => i.message);
  assert.ok(messages.includes('missing required key "providers"'), messages.join('; '));
  assert.ok(messages.includes('missing required key "default"'), messages.join('; '));
  for (const i of r.issues) assert.equal(`${i.line}:${i.col}`, '1:1');
});

// ---------------------------------------------------------------- good configs

test('examples/seed.yaml parses; isp1 gets table 100 and mark 1, isp2 keeps table 4 and mark 4', () => {
  const r = parseConfig(fs.readFileSync(seedUrl, 'utf8'), 'seed.yaml');
  assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
  const c = r.config;
  assert.equal(c.default, 'isp1');
  assert.deepEqual(c.providers.isp1, {
    name: 'isp1',
    interface: 'eth1',
    gateway: { 4: ip('205.254.211.254') },
    snat: { 4: ip('205.254.211.179') },
    table: 100,
    mark: 1,
    routes: 'follow',
    metered: false,
  });
  assert.deepEqual(c.providers.isp2, {
    name: 'isp2',
    interface: 'eth4',
    gateway: { 4: ip('67.17.28.14') },
    snat: { 4: ip('67.17.28.12') },
    table: 4,
    mark: 4,
    routes: 'follow',
    metered: false,
  });
  assert.deepEqual(c.policies, [
    {
      name: 'office-web-via-isp2',
      match: {
        from: [net('192.168.99.0/24')],
        protocol: ['tcp'],
        dport: [
          { from: 80, to: 80 },
          { from: 443, to: 443 },
        ],
      },
      via: 'isp2',
    },
  ]);
});

test('seed: locate() maps later issues to the file', () => {
  const r = parseConfig(fs.readFileSync(seedUrl, 'utf8'), 'seed.yaml');
  assert.ok(r.ok);
  const out = r.locate([
    { path: ['providers', 'isp2', 'gateway'], message: 'gateway unreachable' },
    { path: ['providers', 'isp1'], message: 'interface missing', atKey: true },
  ]);
  assert.equal(out.length, 2);
  // sorted by line: isp1 (line 5) before isp2 (line 6)
  check(out[0], { line: 5, col: 3, message: 'interface missing' });
  check(out[1], { line: 6, col: 37, message: 'gateway unreachable' });
  assert.deepEqual(out[1]!.source, {
    text: '  isp2: { interface: eth4, gateway: 67.17.28.14,     snat: 67.17.28.12, table: 4, mark: 4 }',
    start: 36,
    length: 11,
  });
});

test('defaults: routes follow, mark_mask 0xff, rule_priority 10000, route_protocol 77, no policies', () => {
  const c = parseOk('providers:\n  isp1: { interface: eth1, gateway: 203.0.113.1 }\ndefault: isp1\n');
  assert.equal(c.routes, 'follow');
  assert.equal(c.mark_mask, 0xff);
  assert.equal(c.rule_priority, 10000);
  assert.equal(c.route_protocol, 77);
  assert.deepEqual(c.policies, []);
  assert.equal(c.providers.isp1!.routes, 'follow');
  assert.equal(c.providers.isp1!.table, 100);
  assert.equal(c.providers.isp1!.mark, 1);
  assert.equal(c.providers.isp1!.snat, undefined);
});

test('hex numbers in YAML; auto marks step by the lowest bit of mark_mask (0x100, 0x200, …)', () => {
  const c = parseOk(
    [
      'mark_mask: 0xff00',
      'rule_priority: 0x2710',
      'route_protocol: 0xfe',
      'providers:',
      '  a: { interface: eth1, gateway: 203.0.113.1 }',
      '  b: { interface: eth2, gateway: 198.51.100.1, table: 0x64 }',
      '  c: { interface: eth3, gateway: 192.0.2.1 }',
      'default: a',
    ].join('\n'),
  );
  assert.equal(c.mark_mask, 0xff00);
  assert.equal(c.rule_priority, 10000);
  assert.equal(c.route_protocol, 254);
  assert.deepEqual(
    Object.values(c.providers).map((p) => [p.name, p.table, p.mark]),
    [
      ['a', 101, 0x100],
      ['b', 100, 0x200],
      ['c', 102, 0x300],
    ],
  );
});

test('auto tables and marks skip the explicit ones', () => {
  const c = parseOk(
    [
      'mark_mask: 0xff00',
      'providers:',
      '  a: { interface: eth1, gateway: 203.0.113.1 }',
      '  b: { interface: eth2, gateway: 198.51.100.1, table: 101, mark: 0x100 }',
      '  c: { interface: eth3, gateway: 192.0.2.1 }',
      'default: a',
    ].join('\n'),
  );
  assert.deepEqual(
    Object.values(c.providers).map((p) => [p.name, p.table, p.mark]),
    [
      ['a', 100, 0x200],
      ['b', 101, 0x100],
      ['c', 102, 0x300],
    ],
  );
});

test('IPv6 gateways, a gateway per family in a list, snat masquerade and false, routes per provider', () => {
  const c = parseOk(
    [
      'routes: copy',
      'providers:',
      '  dual: { interface: eth1, gateway: [203.0.113.1, 2001:db8::1], snat: masquerade }',
      '  six:',
      '    interface: eth2',
      '    gateway: 2001:DB8:1::1',
      '    snat: false',
      '    routes: follow',
      '  four: { interface: eth3, gateway: 192.0.2.1, snat: [192.0.2.7] }',
      'default: dual',
      'policies:',
      '  - name: v6-out',
      '    match: { from: 2001:db8:ff::/48 }',
      '    via: six',
      '  - name: both',
      '    match: { to: [10.0.0.0/8, 2001:db8:aa::/48] }',
      '    via: dual',
    ].join('\n'),
  );
  const { dual, six, four } = c.providers;
  assert.deepEqual(dual!.gateway, { 4: ip('203.0.113.1'), 6: ip('2001:db8::1') });
  assert.deepEqual(dual!.snat, { 4: 'masquerade', 6: 'masquerade' });
  assert.equal(dual!.routes, 'copy');
  assert.deepEqual(six!.gateway, { 6: ip('2001:db8:1::1') });
  assert.deepEqual(six!.snat, { 4: false, 6: false });
  assert.equal(six!.routes, 'follow');
  assert.deepEqual(four!.snat, { 4: ip('192.0.2.7') });
  assert.equal(four!.routes, 'copy');
  assert.deepEqual(c.policies[1]!.match.to, [net('10.0.0.0/8'), net('2001:db8:aa::/48')]);
});

test('protocols by name, case and number; port lists merged', () => {
  const c = parseOk(
    [
      'providers:',
      '  isp1: { interface: eth1, gateway: 203.0.113.1 }',
      'default: isp1',
      'policies:',
      '  - name: p1',
      '    match: { protocol: [TCP, 17, 132], dport: [443, 80, "81-90", 85], sport: 1024-65535 }',
      '    via: isp1',
      '  - name: p2',
      '    match: { dport: 53, iif: lan0 }',
      '    via: isp1',
      '  - name: p3',
      '    match: { protocol: [ipv6-icmp, 99, 1, Udplite] }',
      '    via: isp1',
    ].join('\n'),
  );
  const [p1, p2, p3] = c.policies;
  assert.deepEqual(p1!.match.protocol, ['tcp', 'udp', 'sctp']);
  assert.deepEqual(p3!.match.protocol, ['icmpv6', '99', 'icmp', 'udplite']);
  assert.deepEqual(p1!.match.dport, [
    { from: 80, to: 90 },
    { from: 443, to: 443 },
  ]);
  assert.deepEqual(p1!.match.sport, [{ from: 1024, to: 65535 }]);
  // ports without a protocol are allowed (they apply to tcp and udp)
  assert.deepEqual(p2!.match.dport, [{ from: 53, to: 53 }]);
  assert.deepEqual(p2!.match.iif, ['lan0']);
  assert.equal(p2!.match.protocol, undefined);
});

test('a policy with no from/to may go via an IPv4-only provider', () => {
  const c = parseOk('providers:\n  isp1: { interface: eth1, gateway: 203.0.113.1 }\ndefault: isp1\npolicies:\n  - name: all\n    via: isp1\n');
  assert.deepEqual(c.policies[0]!.match, {});
});

test('snat per family: { ipv4: ADDRESS, ipv6: false } and its errors', () => {
  const ok = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: [203.0.113.1, "2001:db8::1"], snat: { ipv4: 203.0.113.5, ipv6: false } }\ndefault: a\n',
    'x.yaml',
  );
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.providers.a!.snat, { 4: ip('203.0.113.5'), 6: false });
  const bad = parseConfig('providers:\n  a: { interface: eth1, gateway: 203.0.113.1, snat: { ipv4: "2001:db8::5", ipv6: masq } }\ndefault: a\n', 'x.yaml');
  assert.ok(!bad.ok);
  assert.match(bad.issues.map((i) => i.message).join('\n'), /ipv4: 2001:db8::5 is an IPv6 address/);
});

test("route_protocol may not be another daemon's tag; rule_priority keeps clear of the main rule", () => {
  const r = parseConfig('route_protocol: 16\nrule_priority: 32000\nproviders:\n  a: { interface: eth1, gateway: 203.0.113.1 }\ndefault: a\n', 'x.yaml');
  assert.ok(!r.ok);
  assert.deepEqual(
    r.issues.map((i) => [i.line, i.message.slice(0, 40)]),
    [
      [1, 'route_protocol must not be an id other s'],
      [2, 'rule_priority must be at most 31766, so '],
    ],
  );
});

test('a protocol name that is an Object property (constructor, __proto__) is unknown', () => {
  const r = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: 203.0.113.1 }\ndefault: a\npolicies:\n  - { name: p, match: { protocol: constructor }, via: a }\n',
    'x.yaml',
  );
  assert.ok(!r.ok);
  assert.match(r.issues[0]!.message, /unknown protocol "constructor"/);
});

test('via and default naming Object properties (toString, constructor) are unknown providers, not crashes', () => {
  const r = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: 203.0.113.1 }\ndefault: toString\npolicies:\n  - { name: p, via: constructor }\n',
    'x.yaml',
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.issues.map((i) => i.message),
    ['default names unknown provider or group "toString"', 'via names unknown provider or group "constructor"'],
  );
});

test('providers given as a list: one error, no stray "provider name 0"', () => {
  const r = parseConfig('providers:\n  - { interface: eth1, gateway: 203.0.113.1 }\ndefault: a\n', 'x.yaml');
  assert.ok(!r.ok);
  assert.equal(r.issues.filter((i) => /provider name "0"/.test(i.message)).length, 0);
  assert.match(r.issues[0]!.message, /expected a mapping of provider names to providers/);
});

test('health: a probe target of a family the provider has no gateway for is an error at the target', () => {
  const r = parseConfig('providers:\n  a: { interface: eth1, gateway: 203.0.113.1, health: { targets: ["2001:db8::1"] } }\ndefault: a\n', 'h.yaml');
  assert.ok(!r.ok);
  assert.equal(r.issues[0]!.line, 2);
  assert.match(r.issues[0]!.message, /an IPv6 probe target but provider "a" has no IPv6 gateway/);
});

test('health: durations as 200ms / 1s / numbers, with defaults', () => {
  const r = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: 203.0.113.1, health: { probe: tcp, port: 22, targets: [198.51.100.1], interval: 1s, timeout: 300ms } }\ndefault: a\n',
    'h.yaml',
  );
  assert.ok(r.ok);
  const h = r.config.providers.a!.health!;
  assert.deepEqual([h.probe, h.interval, h.timeout, h.down, h.up, h.initial, h.policy], ['tcp', 1000, 300, 5, 20, 'up', 'any']);
  const bad = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: 203.0.113.1, health: { targets: [198.51.100.1], interval: soon } }\ndefault: a\n',
    'h.yaml',
  );
  assert.ok(!bad.ok);
  assert.match(bad.issues[0]!.message, /"soon" is not a duration/);
});

test('three providers with one mark: each duplicate reported once, and no false "no room in mark_mask"', () => {
  const r = parseConfig(
    'providers:\n  a: { interface: eth1, gateway: 10.0.1.1, mark: 1 }\n  b: { interface: eth2, gateway: 10.0.2.1, mark: 1 }\n  c: { interface: eth3, gateway: 10.0.3.1, mark: 1 }\ndefault: a\n',
    'marks.yaml',
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.issues.map((i) => `${i.line}:${i.col} ${i.message}`),
    ['3:50 mark 0x1 is already used by provider "a"', '4:50 mark 0x1 is already used by provider "a"'],
  );
});

test('a group with last_resort unreachable needs a mark of its own: counted in the room check', () => {
  const r = parseConfig(
    'mark_mask: 0x3\nproviders:\n  a: { interface: eth1, gateway: 10.0.1.1 }\n  b: { interface: eth2, gateway: 10.0.2.1 }\n  c: { interface: eth3, gateway: 10.0.3.1 }\ngroups:\n  g: { tiers: [a, b, c], last_resort: unreachable }\ndefault: g\n',
    'room.yaml',
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.issues.map((i) => i.message),
    ['mark_mask 0x3 leaves room for 3 marks, but 3 providers and the "unreachable" last resort need 4'],
  );
});

test('durations above a day are refused (Node timers cannot hold them)', () => {
  const r = parseConfig('providers:\n  a: { interface: eth1, gateway: 10.0.1.1 }\ndefault: a\nhook_timeout: 100000s\n', 'd.yaml');
  assert.ok(!r.ok);
  assert.equal(r.issues[0]!.message, 'hook_timeout must be at most a day (86400s)');
});
