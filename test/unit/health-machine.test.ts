import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createMachine,
  DEFAULT_HEALTH,
  detectionBound,
  healthSettingsIssues,
  observe,
  snapshot,
  tick,
  type HealthMachine,
  type HealthSettings,
  type HealthState,
  type Transition,
} from '../../src/health/machine.js';

// A prober in miniature: one round every `interval` from `start`, one probe per target; a probe
// is answered (at send + rtt) when the link is up both when it leaves and when the answer comes
// back, and reported failed at send + timeout otherwise. The daemon ticks at every send.
interface SimOptions {
  start?: number;
  end: number;
  linkUp?: (t: number) => boolean;
  rtt?: (t: number, target: number) => number;
  /** extra losses: round index, target */
  lost?: (round: number, target: number) => boolean;
}

interface SimRun {
  machine: HealthMachine;
  transitions: Transition[];
  /** the state at time t (after every event at or before t) */
  stateAt: (t: number) => HealthState;
  /** the raw outages: link up → down changes seen by the probes' send times */
  rounds: number;
}

type Ev = { t: number; kind: 'tick' } | { t: number; kind: 'result'; ok: boolean; rtt?: number; sentAt: number };

// The settings the mechanics below were written for: the defaults before issue 14 (interval
// 200 ms, timeout 600 ms, down 3, up 5). The tests that are about the defaults say DEFAULT_HEALTH.
const V1 = { interval: 200, timeout: 600, down: 3, up: 5 } as const;

function simulate(settings: Partial<HealthSettings>, o: SimOptions, initialAt = 0): SimRun {
  const input = { ...V1, ...settings };
  const s = { ...DEFAULT_HEALTH, ...input };
  const start = o.start ?? 0;
  const linkUp = o.linkUp ?? (() => true);
  const rttOf = o.rtt ?? (() => 20);
  const events: Ev[] = [];
  let rounds = 0;
  for (let i = 0, at = start; at < o.end; i++, at = start + i * s.interval) {
    rounds++;
    events.push({ t: at, kind: 'tick' });
    for (let j = 0; j < s.targets; j++) {
      const rtt = rttOf(at, j);
      const ok = rtt < s.timeout && linkUp(at) && linkUp(at + rtt) && !(o.lost?.(i, j) ?? false);
      events.push(ok ? { t: at + rtt, kind: 'result', ok, rtt, sentAt: at } : { t: at + s.timeout, kind: 'result', ok, sentAt: at });
    }
  }
  events.sort((a, b) => a.t - b.t);
  let m = createMachine(input, initialAt);
  const transitions: Transition[] = [];
  const timeline: { t: number; state: HealthState }[] = [{ t: initialAt, state: m.state }];
  for (const e of events) {
    // Every machine handed in is frozen, arrays and all: the machine updates a private copy in
    // place for speed, and must never write to the one it was given (strict mode throws if it does).
    deepFreeze(m);
    // the sentAt is left out on purpose half the time: the machine must infer it
    const r =
      e.kind === 'tick'
        ? tick(m, e.t)
        : observe(m, e.ok ? { at: e.t, ok: true, rttMs: e.rtt!, ...(e.sentAt % 400 ? {} : { sentAt: e.sentAt }) } : { at: e.t, ok: false });
    m = r.machine;
    if (r.transition) {
      transitions.push(r.transition);
      timeline.push({ t: e.t, state: r.transition.to });
    }
  }
  const stateAt = (t: number) => {
    let st = timeline[0]!.state;
    for (const x of timeline) if (x.t <= t) st = x.state;
    return st;
  };
  return { machine: m, transitions, stateAt, rounds };
}

function deepFreeze(m: HealthMachine): void {
  for (const v of Object.values(m)) if (v && typeof v === 'object') Object.freeze(v);
  for (const o of m.open) Object.freeze(o);
  Object.freeze(m);
}

/** A hard outage at every phase of the probe schedule (steps of interval/20) and each RTT: the fastest and slowest detection, each within `bound`. */
function outageDelays(settings: Partial<HealthSettings>, rtts: number[], bound: number): { worst: number; best: number } {
  const interval = settings.interval ?? DEFAULT_HEALTH.interval;
  let worst = 0;
  let best = Infinity;
  for (const rtt of rtts) {
    for (let phase = 0; phase < interval; phase += interval / 20) {
      const T = 10_000 + phase;
      const run = simulate(settings, { end: 14_000, linkUp: (t) => t < T, rtt: () => rtt });
      assert.equal(run.transitions.length, 1, `rtt ${rtt} phase ${phase}: ${JSON.stringify(run.transitions)}`);
      const tr = run.transitions[0]!;
      assert.equal(tr.to, 'down');
      assert.equal(tr.cause, 'failures');
      const delay = tr.at - T;
      assert.ok(delay <= bound, `rtt ${rtt} phase ${phase}: detected after ${delay} ms > ${bound}`);
      worst = Math.max(worst, delay);
      best = Math.min(best, delay);
    }
  }
  return { worst, best };
}

const MWAN3 = { interval: 10_000, timeout: 4_000, down: 5, up: 5 } as const;

test('steady up: no transition, stats over the window, and observe leaves the old machine alone', () => {
  const run = simulate({}, { end: 60_000, rtt: (t) => (Math.floor(t / 200) % 2 ? 10 : 30) });
  assert.deepEqual(run.transitions, []);
  const snap = snapshot(run.machine);
  assert.equal(snap.state, 'up');
  assert.equal(snap.since, 0);
  assert.equal(snap.loss, 0);
  assert.equal(snap.latencyMs, 20);
  assert.equal(snap.lastProbe, 59_800 + 10);
  assert.equal(snap.transitions, 0);
  assert.equal(snap.suppressed, false);
  assert.ok(snap.good >= 290, `good rounds ${snap.good}`);
  assert.equal(snap.bad, 0);

  const before = JSON.stringify(snapshot(run.machine));
  const after = observe(run.machine, { at: 60_600, ok: false });
  assert.equal(JSON.stringify(snapshot(run.machine)), before, 'the old machine is unchanged');
  assert.notEqual(snapshot(after.machine).loss, 0);
});

test('a hard outage is detected within detectionBound (≤ 1 s with the settings before issue 14), whatever the phase and RTT', () => {
  const bound = detectionBound(V1);
  assert.equal(bound, 800);
  const { worst, best } = outageDelays(V1, [1, 20, 80], bound);
  assert.ok(worst >= 750, `the bound is tight (worst seen ${worst})`);
  assert.ok(best >= 500, `and nothing is too eager (best ${best})`);
  // without counting unanswered rounds, three timeouts would be needed: up to 1.2 s
  assert.equal(detectionBound({ ...V1, late: 600 }), 1200);
  const slow = simulate({ late: 600 }, { end: 14_000, linkUp: (t) => t < 10_002, rtt: () => 1 });
  assert.equal(slow.transitions[0]!.at - 10_002, 1198);
});

test('recovery: exactly `up` good rounds after the link comes back', () => {
  for (const rtt of [5, 40]) {
    const run = simulate({}, { end: 30_000, linkUp: (t) => t < 10_000 || t >= 20_050, rtt: () => rtt });
    assert.deepEqual(
      run.transitions.map((t) => [t.from, t.to, t.cause]),
      [
        ['up', 'down', 'failures'],
        ['down', 'up', 'recovered'],
      ],
    );
    // first good round sent at 20 200; the fifth at 21 000, answered rtt later
    assert.equal(run.transitions[1]!.at, 21_000 + rtt);
    assert.equal(run.stateAt(21_000), 'down');
    assert.match(run.transitions[1]!.reason, /5 consecutive good/);
  }
});

test('a lost probe, or two in a row, does not take it down; three in a row do', () => {
  const few = simulate({}, { end: 30_000, lost: (i) => i === 50 || i === 80 || i === 81 || i === 120 || i === 122 });
  assert.deepEqual(few.transitions, []);
  assert.equal(snapshot(few.machine).state, 'up');
  const three = simulate({}, { end: 30_000, lost: (i) => i >= 80 && i <= 82 });
  assert.deepEqual(
    three.transitions.map((t) => t.to),
    ['down', 'up'],
  );
});

test('latency over the threshold gives degraded, and back to up when it falls', () => {
  const run = simulate({ latency: { degraded: 100 } }, { end: 45_000, rtt: (t) => (t >= 10_000 && t < 25_000 ? 300 : 20) });
  assert.deepEqual(
    run.transitions.map((t) => [t.from, t.to, t.cause]),
    [
      ['up', 'degraded', 'latency'],
      ['degraded', 'up', 'quality-restored'],
    ],
  );
  const [deg, back] = run.transitions as [Transition, Transition];
  // window 10 s, 50 probes: the mean passes 100 ms once 15 of them take 300 ms (~3 s)
  assert.ok(deg.at > 12_000 && deg.at < 14_000, `degraded at ${deg.at}`);
  assert.ok(back.at > 25_000 && back.at < 35_000, `up at ${back.at}`);
  assert.equal(run.stateAt(20_000), 'degraded');
  assert.match(deg.reason, /latency \d+ ms > 100 ms/);
});

test('degraded on the first dozen probes: back up only after a whole window sent since, not after the next lucky dozen', () => {
  // minSamples is 13 here (10 s / 200 ms / 4): one lost probe in the first 14 is 7.1 % > 5 %.
  // The next eleven good ones bring the fraction to 4 % (at or below 80 % of 5 %), which is no
  // evidence the link is good again; the provider stays degraded for one window (10 s).
  const run = simulate({ loss: { degraded: 0.05 } }, { end: 30_000, lost: (i) => i === 13 });
  assert.deepEqual(
    run.transitions.map((t) => [t.to, t.cause]),
    [
      ['degraded', 'loss'],
      ['up', 'quality-restored'],
    ],
  );
  const [deg, back] = run.transitions as [Transition, Transition];
  assert.equal(run.stateAt(deg.at + 5_000), 'degraded');
  assert.ok(back.at >= deg.at + 10_000 && back.at <= deg.at + 10_400, `up ${back.at - deg.at} ms after degraded`);
});

test('loss over loss.degraded gives degraded and back; loss over loss.down takes it down without 3 failures in a row', () => {
  // every third probe lost between 10 s and 25 s: 33 % loss, never two in a row
  const third = simulate({ loss: { degraded: 0.2 } }, { end: 50_000, lost: (i) => i >= 50 && i < 125 && i % 3 === 0 });
  assert.deepEqual(
    third.transitions.map((t) => [t.to, t.cause]),
    [
      ['degraded', 'loss'],
      ['up', 'quality-restored'],
    ],
  );
  assert.equal(third.stateAt(24_000), 'degraded');
  assert.equal(snapshot(third.machine).state, 'up');

  // two probes out of three lost: 67 % loss, never three in a row
  const two = simulate({ loss: { degraded: 0.2, down: 0.5 } }, { end: 40_000, lost: (i) => i >= 50 && i % 3 !== 0 });
  const causes = two.transitions.map((t) => t.cause);
  assert.deepEqual(causes.slice(0, 2), ['loss', 'loss-down']);
  assert.equal(two.transitions[1]!.to, 'down');
  assert.equal(snapshot(two.machine).bad < 3, true);
});

test('target policies: any needs one answer per round, all needs every answer', () => {
  const deadSecond = { lost: (_i: number, j: number) => j === 1 };
  const any = simulate({ targets: 2, policy: 'any' }, { end: 20_000, ...deadSecond });
  assert.deepEqual(any.transitions, []);
  const loss = snapshot(any.machine).loss!;
  assert.ok(Math.abs(loss - 0.5) < 0.02, `the dead target still counts in the loss (${loss})`);

  const all = simulate({ targets: 2, policy: 'all' }, { end: 20_000, ...deadSecond });
  assert.deepEqual(
    all.transitions.map((t) => t.to),
    ['down'],
  );
  assert.ok(all.transitions[0]!.at <= detectionBound({ ...V1, targets: 2, policy: 'all' }));

  // all: comes back once both answer again; any: goes down once both are dead
  const allBack = simulate({ targets: 2, policy: 'all' }, { end: 20_000, lost: (i, j) => j === 1 && i < 50 });
  assert.deepEqual(
    allBack.transitions.map((t) => t.to),
    ['down', 'up'],
  );
  assert.equal(allBack.transitions[1]!.at, 50 * 200 + 4 * 200 + 20);
  const anyBoth = simulate({ targets: 2, policy: 'any' }, { end: 20_000, lost: (i, j) => (j === 1 ? true : i >= 50) });
  assert.deepEqual(
    anyBoth.transitions.map((t) => t.to),
    ['down'],
  );
});

test('initial down comes up only after `up` good rounds', () => {
  const run = simulate({ initial: 'down' }, { end: 5_000 });
  assert.equal(run.stateAt(0), 'down');
  assert.equal(run.stateAt(819), 'down');
  assert.deepEqual(
    run.transitions.map((t) => [t.from, t.to, t.at]),
    [['down', 'up', 4 * 200 + 20]],
  );
  const up3 = simulate({ initial: 'down', up: 3 }, { end: 5_000 });
  assert.equal(up3.transitions[0]!.at, 2 * 200 + 20);
});

// bouncing every second (down 1 s, up 1 s) from 5 s to 65 s: 30 outages
const bouncing = (t: number) => t < 5_000 || t >= 65_000 || Math.floor((t - 5_000) / 1_000) % 2 === 1;

test('flapping every second for a minute: a handful of transitions, and usable again once it stops', () => {
  const undamped = simulate({ holddown: 0 }, { end: 125_000, linkUp: bouncing });
  const outages = undamped.transitions.filter((t) => t.to === 'down').length;
  assert.ok(outages >= 25, `each bounce is seen without damping (${outages} outages)`);
  assert.ok(undamped.transitions.length >= 50);

  const run = simulate({}, { end: 125_000, linkUp: bouncing });
  assert.ok(run.transitions.length <= 4, `${run.transitions.length} transitions: ${JSON.stringify(run.transitions.map((t) => [t.to, t.at]))}`);
  for (let t = 10_000; t < 65_000; t += 100) assert.equal(run.stateAt(t), 'down', `held down at ${t}`);
  const last = run.transitions.at(-1)!;
  assert.equal(last.to, 'up');
  assert.equal(last.cause, 'damping-released');
  assert.ok(last.at <= 65_000 + 30_000 + 1_000, `usable again at ${last.at}, within holddown of the last flap`);
  const snap = snapshot(run.machine);
  assert.equal(snap.state, 'up');
  assert.equal(snap.suppressed, false);

  // mid-flapping, the snapshot says why a link whose probes are good is down
  const mid = simulate({}, { end: 30_500, linkUp: bouncing });
  assert.equal(snapshot(mid.machine).suppressed, true);
  assert.equal(snapshot(mid.machine).state, 'down');
});

test('flap damping does not slow a single outage and recovery, nor two outages a minute apart', () => {
  const cut = (t: number) => t < 10_000 || (t >= 12_000 && t < 70_000) || t >= 72_000;
  const damped = simulate({}, { end: 90_000, linkUp: cut });
  const undamped = simulate({ holddown: 0 }, { end: 90_000, linkUp: cut });
  assert.deepEqual(
    damped.transitions.map((t) => [t.to, t.at, t.cause]),
    undamped.transitions.map((t) => [t.to, t.at, t.cause]),
  );
  assert.equal(damped.transitions.length, 4);
  assert.equal(damped.transitions[1]!.at, 12_000 + 4 * 200 + 20);
  assert.equal(damped.transitions[3]!.at, 72_000 + 4 * 200 + 20);
  for (const t of damped.transitions) assert.doesNotMatch(t.reason, /damping/);
});

test('the defaults (interval 50 ms, timeout 250 ms, down 5): a hard outage is down 250–300 ms after it starts', () => {
  const bound = detectionBound(DEFAULT_HEALTH);
  // interval + max(timeout, (down − 1) · interval + late) = 50 + max(250, 4 · 50 + 50)
  assert.equal(bound, 300);
  const { worst, best } = outageDelays(DEFAULT_HEALTH, [1, 10, 25], bound);
  assert.ok(worst <= bound && worst >= 280, `worst ${worst}`);
  assert.ok(best >= 200, `best ${best}`);
});

/** A seeded PRNG (mulberry32): the soak below is the same every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the defaults: 30 min of 5 % random loss and 20 ms jitter take a healthy uplink down 0 times (the old ones: about once)', () => {
  // What bench/failover.ts's soak does to a real uplink: every probe lost with probability 0.05,
  // the answers of the others after 25 ± 20 ms. Expected false outages in 30 min: rounds × 0.05^down
  // — 36,000 × 0.05^5 ≈ 0.011 with the defaults, 9,000 × 0.05^3 ≈ 1.1 with the old ones.
  const soak = (settings: Partial<HealthSettings>, seed: number) => {
    const lost = rng(seed);
    const jitter = rng(seed + 1);
    const run = simulate(settings, { end: 30 * 60_000, lost: () => lost() < 0.05, rtt: () => 5 + 40 * jitter() });
    return run.transitions.filter((t) => t.to === 'down').length;
  };
  assert.equal(soak(DEFAULT_HEALTH, 14), 0);
  let old = 0;
  for (const seed of [1, 2, 3, 4]) old += soak(V1, seed);
  assert.ok(old >= 1, `the old defaults went down ${old} times in 4 simulated half-hours`);
});

test("detectionBound: ≤ 1 s with the defaults, ≥ 50 s with mwan3's defaults, and the simulation agrees", () => {
  assert.ok(detectionBound(DEFAULT_HEALTH) <= 1000);
  assert.equal(detectionBound(), detectionBound(DEFAULT_HEALTH));
  const mw = detectionBound(MWAN3);
  assert.ok(mw >= 50_000, `mwan3 defaults: ${mw}`);
  assert.equal(mw, 54_000);
  for (const phase of [0, 2_500, 9_900]) {
    const T = 100_000 + phase;
    const run = simulate(MWAN3, { end: 200_000, linkUp: (t) => t < T });
    const down = run.transitions.find((t) => t.to === 'down')!;
    const delay = down.at - T;
    assert.ok(delay <= mw && delay >= 44_000 - 20, `mwan3 settings, phase ${phase}: ${delay} ms`);
  }
});

test('tick ages the window and closes rounds whose results never came', () => {
  let m = createMachine({ ...V1, targets: 2, policy: 'all' }, 0);
  m = observe(m, { at: 20, ok: true, rttMs: 20, sentAt: 0 }).machine; // the other target never reports
  assert.equal(snapshot(m).good, 0);
  m = tick(m, 900).machine; // past timeout + interval: the round is closed, the missing probe failed
  assert.equal(snapshot(m).bad, 1);
  assert.equal(snapshot(m).loss, 0.5);
  m = tick(m, 20_000).machine;
  assert.equal(snapshot(m).loss, null);
  assert.equal(snapshot(m).latencyMs, null);
  assert.equal(snapshot(m).lastProbe, 20);
});

test('settings are checked', () => {
  assert.deepEqual(healthSettingsIssues({}), []);
  assert.throws(() => createMachine({ down: 0 }), RangeError);
  assert.throws(() => createMachine({ loss: { degraded: 1.5 } }), /loss.degraded/);
  assert.throws(() => createMachine({ damping: { suppress: 500, reuse: 750 } }), /suppress/);
  assert.throws(() => createMachine({ window: 10 }), /window/);
});
