// Plan text and error rendering: what a person sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plan } from '../../src/apply/plan.js';
import { describePlan } from '../../src/apply/render.js';
import { reportError } from '../../src/cli/output.js';
import { EXIT } from '../../src/errors/index.js';
import { CommandError } from '../../src/kernel/exec.js';
import { emptyState, type RouteState, type State } from '../../src/state/types.js';

const own = { protocol: 77, prefs: [10000, 10999] as [number, number], tables: [4] };
const route = (over: Partial<RouteState>): RouteState => ({
  family: 4,
  table: 4,
  dst: 'default',
  type: 'unicast',
  tos: 0,
  metric: 0,
  protocol: 77,
  scope: 0,
  gateway: '192.0.2.1',
  dev: 'eth4',
  flags: [],
  ...over,
});

test('an empty plan still shows its warnings (foreign objects where multihome works)', () => {
  const desired: State = { ...emptyState(), routes: [route({})] };
  const current: State = { ...emptyState(), routes: [route({}), route({ dst: '10.0.0.0/8', protocol: 4 })] };
  const text = describePlan(plan(desired, current, own));
  assert.match(text, /^No changes\.\n\nwarnings:\n {2}! table 4: 10\.0\.0\.0\/8 via 192\.0\.2\.1 dev eth4 is not multihome's \(proto 4\)/);
});

test('ownership needs the tag AND the place: a tagged rule outside the range or a tagged route in another table is not touched', () => {
  const current: State = {
    ...emptyState(),
    rules: [
      { family: 4, pref: 500, action: 'lookup', table: 66, protocol: 77 },
      { family: 4, pref: 10001, action: 'lookup', table: 4, fwmark: 4, fwmask: 0xff, protocol: 77 },
    ],
    routes: [route({ table: 66 }), route({})],
  };
  const p = plan(emptyState(), current, own);
  assert.deepEqual(
    p.rules.del.map((r) => r.pref),
    [10001],
  );
  assert.deepEqual(
    p.routes.del.map((r) => r.table),
    [4],
  );
});

test("a table looked up by one of multihome's own rules is multihome's even when the config no longer names it", () => {
  const current: State = {
    ...emptyState(),
    rules: [{ family: 4, pref: 10011, action: 'lookup', table: 9, fwmark: 4, fwmask: 0xff, protocol: 77 }],
    routes: [route({ table: 9 })],
  };
  const p = plan(emptyState(), current, { ...own, tables: [] });
  assert.deepEqual(
    p.routes.del.map((r) => r.table),
    [9],
  );
});

test('an IPv6 gateway change is one replace, not add + delete (the kernel refuses a second gateway route)', () => {
  const r6 = route({ family: 6, metric: 1024, gateway: 'fe80::1' });
  const p = plan({ ...emptyState(), routes: [{ ...r6, gateway: 'fe80::2' }] }, { ...emptyState(), routes: [r6] }, own);
  assert.equal(p.routes.replace.length, 1);
  assert.deepEqual([p.routes.add.length, p.routes.del.length], [0, 0]);
});

test('without root, a kernel refusal is a user error with a hint, not an internal one', () => {
  const writes: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = (s: string) => (writes.push(s), true);
  try {
    const code = reportError(new CommandError(['nft', '-j', 'list', 'table', 'inet', 'multihome'], 1, 'Error: Operation not permitted'), false);
    assert.equal(code, EXIT.user);
  } finally {
    process.stderr.write = orig;
  }
  assert.match(writes.join(''), /hint: run multihome as root/);
  assert.doesNotMatch(writes.join(''), /internal error/);
});
