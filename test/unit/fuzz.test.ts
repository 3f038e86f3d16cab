// Seeded fuzzing of everything multihome reads from outside: config files,
// saved states (explain --state), the records in its state dir, and control
// socket messages. For every mutation: no internal error (only a user error
// with a message, or a result), no hang, and nothing half-applied (an apply
// that fails leaves the kernel — here the in-memory one — exactly as it was).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { applyPrepared, down, factsOf, planPrepared, prepareWithFacts } from '../../src/apply/session.js';
import { checkConfig } from '../../src/apply/session.js';
import { plan } from '../../src/apply/plan.js';
import { describePlan } from '../../src/apply/render.js';
import { parseConfig } from '../../src/config/parse.js';
import { IDLE_MS, MAX_CLIENTS, parseRequest, serveControl } from '../../src/daemon/control.js';
import { healthSettingsOf } from '../../src/daemon/load.js';
import { ApplyError, UserError } from '../../src/errors/index.js';
import { createMachine } from '../../src/health/machine.js';
import { explain, PacketError } from '../../src/sim/explain.js';
import { overlayDesired } from '../../src/sim/overlay.js';
import type { Packet } from '../../src/sim/types.js';
import { parseSavedState } from '../../src/state/schema.js';
import { emptyState, type State } from '../../src/state/types.js';
import { FakeKernel } from '../helpers/fake-kernel.js';
import { mutateJson, mutateText, pick, rng } from '../helpers/mutate.js';
import { repoPath } from '../helpers/paths.js';
import { fakeTarget, SEED_LINKS, tmpStateDir } from '../helpers/seed-fake.js';

const SEED = 20261203;
const SEED_CONFIG = fs.readFileSync(repoPath('examples', 'seed.yaml'), 'utf8');
const expected = (e: unknown) => e instanceof UserError || e instanceof ApplyError;

function configCorpus(): string[] {
  const files = [repoPath('examples', 'seed.yaml')];
  const golden = repoPath('test', 'golden', 'cases');
  for (const c of fs.readdirSync(golden))
    for (const f of ['config.yaml', 'previous.yaml']) if (fs.existsSync(path.join(golden, c, f))) files.push(path.join(golden, c, f));
  const bad = repoPath('test', 'fixtures', 'config');
  for (const f of fs.readdirSync(bad)) files.push(path.join(bad, f));
  return files.map((f) => fs.readFileSync(f, 'utf8'));
}

/** Links named like the corpus's interfaces, with addresses on their gateways' subnets, so many mutants compile for real. */
const LINKS = [
  ...SEED_LINKS,
  ...['eth2', 'eth3', 'wwan0', 'ppp0', 'eth5'].map((name, i) => ({
    name,
    index: 10 + i,
    up: true,
    carrier: true,
    addresses: [
      { family: 4 as const, address: `192.0.2.${i * 16 + 2}`, prefixlen: 20, scope: 'global' },
      { family: 6 as const, address: `2001:db8:${i}::2`, prefixlen: 64, scope: 'global' },
    ],
  })),
];

test(`fuzz: 3,000 mutated configs through validate, compile, plan and apply (seed ${SEED}): no internal error, nothing half-applied`, async (t) => {
  const corpus = configCorpus();
  const good = corpus.filter((c) => parseConfig(c, 'x.yaml').ok);
  const r = rng(SEED);
  let valid = 0;
  let applied = 0;
  let refused = 0;
  const internal: string[] = [];
  for (let i = 0; i < 3000; i++) {
    let text = pick(r, r() < 0.8 ? good : corpus);
    for (let k = r() < 0.6 ? 1 : 1 + Math.floor(r() * 3); k > 0; k--) text = mutateText(r, text);
    try {
      const parsed = parseConfig(text, 'fuzz.yaml');
      if (!parsed.ok) {
        assert.ok(
          parsed.issues.every((x) => x.line >= 1 && x.col >= 1 && x.message),
          'every issue is located',
        );
        continue;
      }
      valid++;
      for (const p of Object.values(parsed.config.providers)) if (p.health) createMachine(healthSettingsOf(p.health), 0);
      const k = new FakeKernel(LINKS);
      const target = fakeTarget(k);
      const prep = prepareWithFacts(checkConfig(text, 'fuzz.yaml'), 'fuzz.yaml', { links: k.state.links, mainRoutes: [], sysctls: k.state.sysctls });
      describePlan(plan(prep.desired, emptyState(), prep.own));
      if (i % 4 !== 0) continue; // a quarter of the valid ones through apply and down
      const before = JSON.stringify(k.state);
      try {
        await applyPrepared(prep, target);
        applied++;
        await down(target);
      } catch (e) {
        if (!expected(e)) throw e;
        refused++;
        assert.equal(JSON.stringify(k.state), before, `a failed apply changed nothing:\n${text}`);
      }
      fs.rmSync(target.stateDir.dir, { recursive: true, force: true });
    } catch (e) {
      if (!expected(e)) internal.push(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n--- config ---\n${text}`);
    }
  }
  t.diagnostic(`${valid} valid configs, ${applied} applied and taken down, ${refused} refused cleanly, ${internal.length} internal errors`);
  assert.deepEqual(internal.slice(0, 3), []);
});

test('fuzz: YAML bombs are user errors with a position (aliases, nesting), in bounded time', () => {
  const alias = `a: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefgh'
    .split('')
    .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)
    .join('\n')}\n`;
  const deep = `providers: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
  const deepMap = `providers:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
  for (const [what, text] of [
    ['aliases', alias],
    ['nested lists', deep],
    ['nested mappings', deepMap],
  ] as const) {
    const t0 = Date.now();
    const r = parseConfig(text, 'bomb.yaml');
    assert.equal(r.ok, false, what);
    if (!r.ok) assert.ok(r.issues[0]!.line >= 1, what);
    assert.ok(Date.now() - t0 < 5000, `${what}: ${Date.now() - t0} ms`);
  }
});

const PACKETS: Packet[] = [
  { family: 4, src: '192.168.99.10', dst: '203.0.113.10', iif: 'eth0', proto: 6, dport: 443, sport: 40000 },
  { family: 4, src: '0.0.0.0', dst: '203.0.113.10', proto: 17, dport: 53 },
  { family: 6, src: '2001:db8:1::10', dst: '2001:db8:ffff::1', iif: 'eth0', proto: 6, dport: 80 },
];

test(`fuzz: 1,500 mutated saved states through explain --state (seed ${SEED}): a user error or an answer, never a crash or a hang`, (t) => {
  const states: unknown[] = [];
  const golden = repoPath('test', 'golden', 'cases');
  for (const c of fs.readdirSync(golden)) states.push(JSON.parse(fs.readFileSync(path.join(golden, c, 'state.json'), 'utf8')));
  const regressions = repoPath('test', 'differential', 'regressions');
  for (const f of fs.readdirSync(regressions).slice(0, 8))
    states.push((JSON.parse(fs.readFileSync(path.join(regressions, f), 'utf8')) as { state: unknown }).state);
  const r = rng(SEED + 1);
  let answered = 0;
  const internal: string[] = [];
  for (let i = 0; i < 1500; i++) {
    let v = pick(r, states);
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) v = mutateJson(r, v);
    let text = JSON.stringify(v);
    if (r() < 0.2) text = mutateText(r, text);
    try {
      const s: State = parseSavedState(text, 'state.json');
      const t0 = Date.now();
      // as explain --state DIR does, and with -c FILE (the seed config over that state)
      const overlays: State[] = [s];
      try {
        const prep = prepareWithFacts(checkConfig(SEED_CONFIG, 'seed.yaml'), 'seed.yaml', factsOf(s));
        overlays.push(overlayDesired(s, prep.desired, prep.own));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
      }
      for (const o of overlays) {
        for (const p of PACKETS) {
          try {
            explain(o, p);
          } catch (e) {
            if (!(e instanceof PacketError)) throw e; // a packet that does not fit the state: a user error in the CLI
          }
        }
      }
      assert.ok(Date.now() - t0 < 2000, `explain took ${Date.now() - t0} ms`);
      answered++;
    } catch (e) {
      if (!(e instanceof UserError)) internal.push(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n${text.slice(0, 2000)}`);
    }
  }
  t.diagnostic(`${answered} states explained, ${1500 - answered - internal.length} refused with a message, ${internal.length} internal errors`);
  assert.deepEqual(internal.slice(0, 3), []);
});

test(`fuzz: 600 mutated state-dir records under plan and down (seed ${SEED}): a user error naming the file, never an internal one or a partial change`, async (t) => {
  // real records from an apply (and an armed confirm), then mutated one at a time
  const k0 = new FakeKernel(SEED_LINKS);
  const t0 = fakeTarget(k0);
  const text = fs.readFileSync(repoPath('examples', 'seed.yaml'), 'utf8');
  const prep = prepareWithFacts(checkConfig(text, 'seed.yaml'), 'seed.yaml', { links: k0.state.links, mainRoutes: [], sysctls: k0.state.sysctls });
  await applyPrepared(prep, t0);
  const records: Record<string, unknown> = {};
  for (const f of fs.readdirSync(t0.stateDir.dir)) if (f.endsWith('.json')) records[f] = JSON.parse(fs.readFileSync(path.join(t0.stateDir.dir, f), 'utf8'));
  records['journal.json'] = {
    pid: 12345,
    startedAt: new Date().toISOString(),
    command: 'apply',
    ownership: { protocol: 77, prefs: [10000, 10999], tables: [4, 100] },
    sysctlKeys: ['net/ipv4/ip_forward'],
  };
  records['confirm-timer.json'] = { at: new Date().toISOString(), result: 'reverted' };
  records['pending-confirm.json'] = {
    deadline: 1,
    before: { snapshot: { state: k0.state, nftJson: null }, own: { protocol: 77, prefs: [10000, 10999], tables: [4, 100] }, sysctlKeys: [] },
  };
  const names = Object.keys(records);
  const r = rng(SEED + 2);
  let refused = 0;
  const internal: string[] = [];
  for (let i = 0; i < 600; i++) {
    const k = new FakeKernel(SEED_LINKS);
    const target = fakeTarget(k);
    await applyPrepared(prep, target);
    const name = pick(r, names);
    let v = records[name];
    for (let n = 1 + Math.floor(r() * 2); n > 0; n--) v = mutateJson(r, v);
    let body = JSON.stringify(v);
    if (r() < 0.2) body = mutateText(r, body);
    fs.writeFileSync(path.join(target.stateDir.dir, name), body, { mode: 0o600 });
    const before = JSON.stringify(k.state);
    try {
      await planPrepared(prep, target);
      await down(target);
    } catch (e) {
      if (e instanceof UserError) {
        refused++;
        assert.equal(JSON.stringify(k.state), before, 'a refused down changed nothing');
      } else internal.push(`${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n${body.slice(0, 1000)}`);
    }
    fs.rmSync(target.stateDir.dir, { recursive: true, force: true });
  }
  t.diagnostic(`${refused} of 600 mutated records refused with a message, ${internal.length} internal errors`);
  assert.deepEqual(internal.slice(0, 3), []);
});

test(`fuzz: 3,000 mutated control-socket messages (seed ${SEED}): only exact requests act; long lines, idle and excess clients are dropped; memory stays bounded`, async (t) => {
  const dir = tmpStateDir();
  const acted: string[] = [];
  const server = await serveControl(
    { dir },
    (req) => {
      acted.push(req.cmd);
      return Promise.resolve({ ok: true });
    },
    () => {},
    { idleMs: 300 },
  );
  const sock = path.join(dir, 'control.sock');
  const ask = (payload: Buffer | string) =>
    new Promise<string>((resolve) => {
      const c = net.connect(sock);
      let out = '';
      c.on('connect', () => c.end(payload));
      c.on('data', (b) => (out += b.toString()));
      c.on('close', () => resolve(out));
      c.on('error', () => resolve(out));
    });
  try {
    const r = rng(SEED + 3);
    const seeds = [
      '{"cmd":"status"}',
      '{"cmd":"reload"}',
      '{}',
      '[]',
      '1',
      '{"cmd":"shutdown"}',
      '{"cmd":"status","x":1}',
      '{"cmd":["status"]}',
      'null',
      '"status"',
    ];
    let valid = 0;
    for (let i = 0; i < 3000; i++) {
      let m = pick(r, seeds);
      if (r() < 0.7) m = r() < 0.5 ? mutateText(r, m) : JSON.stringify(mutateJson(r, JSON.parse(m) as unknown));
      const line = m.replace(/\n/g, '') + '\n';
      if (parseRequest(line.trimEnd()).ok) valid++;
      const answer = await ask(line);
      assert.doesNotThrow(() => JSON.parse(answer), `answer to ${JSON.stringify(line)}: ${answer}`);
    }
    assert.equal(acted.length, valid, 'only exact requests were acted on');
    assert.ok(!acted.some((c) => c !== 'status' && c !== 'reload'));
    // a 32 MB line without a newline: refused, the connection dropped, memory bounded
    const rss0 = process.memoryUsage().rss;
    const big = await ask(Buffer.alloc(32 << 20, 0x61));
    assert.match(big, /request longer than/);
    const grew = (process.memoryUsage().rss - rss0) >> 20;
    t.diagnostic(`rss grew ${grew} MB for a 32 MB line`);
    assert.ok(grew < 100, `rss grew ${grew} MB`);
    // 1,000 idle connections: at most MAX_CLIENTS held, each dropped after the idle time
    const idle = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const c = net.connect(sock);
            c.on('error', () => undefined);
            c.on('connect', () => resolve(c));
            c.on('close', () => resolve(c));
          }),
      ),
    );
    const count = await new Promise<number>((res) => server.getConnections((_e, n) => res(n)));
    assert.ok(count <= MAX_CLIENTS, `${count} connections held`);
    await new Promise((res) => setTimeout(res, 600));
    const after = await new Promise<number>((res) => server.getConnections((_e, n) => res(n)));
    assert.equal(after, 0, 'idle clients were dropped');
    for (const c of idle) c.destroy();
    assert.equal((JSON.parse(await ask('{"cmd":"status"}\n')) as { ok: boolean }).ok, true, 'and the socket still answers');
    assert.ok(IDLE_MS >= 1000);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
