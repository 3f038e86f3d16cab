// The per-provider health state machine: probe results in, a state out (up / degraded / down),
// with hysteresis, quality thresholds and flap damping. Pure: no I/O, no timers, no clock —
// every call carries the time in milliseconds, and every call returns a new machine (the old one
// is left untouched, so the daemon can keep, compare and log snapshots freely).
//
// ## Rounds
//
// The prober sends one probe to every target each `interval` (a "round") and reports one
// result per probe: `ok: true` with the RTT when the answer came back, `ok: false` when the
// timeout expired (or the probe failed at once). A result says when its probe was sent with
// `sentAt`; without it the send time is inferred (`at - rttMs` for answers, `at - timeout` for
// timeouts). Results whose send times are within half an interval of each other belong to the
// same round. A round is decided as soon as the target policy allows:
//   - `any` (default, like dpinger or mwan3 `reliability 1`): good at the first answer, bad when
//     every target failed;
//   - `all`: bad at the first failure, good when every target answered.
// Rounds count in the order they were SENT: once a round is decided, older undecided rounds are
// stale (a fresh answer outranks an old timeout that only arrives later). A round that never
// gets all its results is closed `timeout + interval` after it was sent, the missing ones
// counting as failures.
//
// ## Hysteresis and detection time
//
// `down` consecutive bad rounds take a usable provider down; `up` consecutive good rounds bring
// it back. Waiting for `down` timeouts would be slow: with the defaults (interval 200 ms,
// timeout 600 ms, down 3) the third lost probe is only known 400 + 600 = 1000 ms after the first
// one was sent. So, once a round is KNOWN to have failed (its timeout came back), the rounds
// sent after it that have had no answer at all for `late` ms count as failed too ("unanswered";
// with the `all` policy, rounds missing any target's answer for that long).
// `late` defaults to max(interval, 2 × the mean RTT in the window), capped at the timeout — an
// answer is overdue long before the timeout expires on a healthy link, and the cap makes the
// rule harmless on slow ones. Only silence counts; a late answer still arriving before
// the timeout puts the round back among the good ones (the provider then comes back after `up`
// good rounds, like after any outage).
//
// Arithmetic for a hard outage at time T (everything lost from T on):
//   - the first probe that goes unanswered is sent at s0, T - rtt < s0 ≤ T + interval (worst
//     case: the outage starts just after an answer came back, so the next probe leaves almost
//     one interval later);
//   - its failure is known at s0 + timeout (the prober reports the timeout);
//   - the (down-1) rounds after it are sent at s0 + k·interval and count once silent for
//     `late`: the last one at s0 + (down-1)·interval + late;
//   - so `down` at s0 + max(timeout, (down-1)·interval + late).
// Defaults: s0 + max(600, 400 + 200) = s0 + 600 ms → 600–800 ms after T (≤ 1 s; the timeout
// still bounds each probe but no longer adds to the (down-1) intervals).
// mwan3's defaults (interval 10 s, timeout 4 s, down 5) through this machine: late = 4 s (the
// cap), s0 + max(4, 40 + 4) = s0 + 44 s → 44–54 s after T. mwan3 itself is slower still: its
// loop sleeps `interval` AFTER each probe returns or times out, so failed rounds are 14 s apart:
// 4 + 4 × 14 = 60 s after s0 → ~60–70 s (the anchors' ~70 s).
// `detectionBound(settings)` returns the worst case, interval + max(timeout, (down-1)·interval
// + late), for the daemon's docs and tests. It assumes `observe`/`tick` are called when results
// arrive and at each probe send (the daemon does both); otherwise add the tick period.
//
// ## Quality: degraded
//
// Over the `window` (e.g. 10 s): `loss` is the fraction of failed probes, `latencyMs` the mean
// RTT of the answered ones. A usable provider is `degraded` when latency > latency.degraded or
// loss > loss.degraded (still usable: groups may prefer a healthier member), and back `up` once
// both are at or below 80 % of their thresholds (QUALITY_RECOVERY, so a mean hovering at the
// threshold does not toggle every round) over a whole window of probes sent since it became
// degraded. Why the whole window: the first decision may rest on `minSamples` probes, where one
// lost probe in 13 is 7.7 %; judging recovery on the next dozen probes would let a link losing
// one probe in five toggle degraded → up → degraded, moving `avoid_degraded` traffic each time.
// `loss.down`: loss ≥ this takes the provider down even without `down` consecutive failed
// rounds (a link losing 2 probes out of 3). The decisions only look at probes since the
// provider last became usable (so the outage it just recovered from does not keep it degraded
// or down), and need `minSamples` probes first; the reported
// `latencyMs`/`loss` are always over the whole window.
//
// ## Flap damping: a decaying penalty (like BGP route-flap damping, RFC 2439)
//
// Every time the probes take the provider down (a "flap"), a penalty (default 1000) is added to
// a score that halves every `halfLife` (default 10 s). If the score is over `suppress` (default
// 1500) right after a flap, the provider is SUPPRESSED: it stays `down` even when the probes
// come back good, until the score has decayed below `reuse` (default 750) or `holddown`
// (default 30 s) has passed since the last flap, whichever comes first — `holddown` bounds how
// long damping can keep a working link out of use. Then it comes back at once if the probes are
// good. Consequences with the defaults:
//   - one outage and recovery: score 1000 ≤ 1500, never suppressed: recovery after `up` good
//     rounds, nothing more;
//   - two outages less than 10 s apart (1000·2^(-t/10 s) + 1000 > 1500): held down until the
//     score is below 750 (≥ 10 s), at most 30 s after the last flap;
//   - a link bouncing every second: down, up, down (now suppressed, it stays down while the
//     bouncing goes on), then up again at most 30 s after the bouncing stops — 4 transitions
//     instead of 2 per bounce.
// `holddown: 0` or `damping: false` turns damping off.

/** One probe to one target. A timeout is `ok: false`. */
export interface ProbeResult {
  /** when the result became known (answer received, timeout expired), ms */
  at: number;
  ok: boolean;
  rttMs?: number;
  /** when the probe was sent; inferred when absent (at - rttMs, or at - timeout for a failure) */
  sentAt?: number;
}

export type HealthState = 'up' | 'degraded' | 'down';
type TargetPolicy = 'any' | 'all';

interface DampingSettings {
  /** added to the score at each flap (the probes taking the provider down) */
  penalty: number;
  /** a flap leaving the score above this suppresses the provider */
  suppress: number;
  /** a suppressed provider is released once the score is below this */
  reuse: number;
  /** ms for the score to halve */
  halfLife: number;
}

export interface HealthSettings {
  /** ms between probe rounds */
  interval: number;
  /** ms after which an unanswered probe is reported failed */
  timeout: number;
  /** consecutive bad rounds that take a usable provider down */
  down: number;
  /** consecutive good rounds that bring a down provider up */
  up: number;
  latency?: { degraded: number };
  /** ms: mean absolute difference of consecutive RTTs (RFC 3550's interarrival jitter, unsmoothed) */
  jitter?: { degraded: number };
  /** fractions 0..1 of failed probes in the window */
  loss?: { degraded: number; down?: number };
  /** ms of history for loss and latency */
  window: number;
  initial: 'up' | 'down';
  /** number of targets probed each round */
  targets: number;
  policy: TargetPolicy;
  /** ms: the longest flap damping may keep a provider down after its last flap; 0 turns damping off */
  holddown?: number;
  /** penalty parameters of the flap damping; false turns it off */
  damping?: Partial<DampingSettings> | false;
  /** ms without any answer after which a round following a known-failed one counts as failed;
   *  default max(interval, 2 × mean RTT), always capped at `timeout` */
  late?: number;
  /** probes needed (since the provider became usable) before loss/latency decide anything;
   *  default targets × max(3, window / interval / 4) */
  minSamples?: number;
}

const DEFAULT_DAMPING: Readonly<DampingSettings> = Object.freeze({
  penalty: 1000,
  suppress: 1500,
  reuse: 750,
  halfLife: 10_000,
});

const DEFAULT_HOLDDOWN = 30_000;

// The same defaults as the config's `health:` (src/config/schema.ts); why these, in the header.
export const DEFAULT_HEALTH: Readonly<HealthSettings> = Object.freeze({
  interval: 50,
  timeout: 250,
  down: 5,
  up: 20,
  window: 10_000,
  initial: 'up' as const,
  targets: 1,
  policy: 'any' as const,
  holddown: DEFAULT_HOLDDOWN,
});

/** degraded → up once latency and loss are both at or below this fraction of their thresholds */
const QUALITY_RECOVERY = 0.8;

type TransitionCause =
  | 'failures' // `down` consecutive bad rounds
  | 'loss-down' // loss ≥ loss.down
  | 'recovered' // `up` consecutive good rounds
  | 'damping-released' // the flap damping let a working provider back
  | 'latency' // latency over latency.degraded
  | 'loss' // loss over loss.degraded
  | 'jitter' // jitter over jitter.degraded
  | 'quality-restored';

export interface Transition {
  from: HealthState;
  to: HealthState;
  at: number;
  cause: TransitionCause;
  reason: string;
}

interface Sample {
  readonly at: number;
  readonly ok: boolean;
  readonly rtt?: number;
}

interface OpenRound {
  readonly sentAt: number;
  readonly oks: number;
  readonly fails: number;
}

interface Resolved {
  readonly s: Readonly<HealthSettings>;
  readonly damping: Readonly<DampingSettings> | null;
  readonly holddown: number;
  readonly minSamples: number;
}

/** The machine: plain immutable data. Use the functions below; the fields are not an API. */
export interface HealthMachine {
  readonly cfg: Resolved;
  readonly now: number;
  readonly state: HealthState;
  readonly since: number;
  readonly transitions: number;
  /** what the probes say, damping aside */
  readonly reachable: boolean;
  readonly reachableSince: number;
  readonly good: number;
  readonly bad: number;
  /** rounds after the last known-failed one with no answer for `late` ms (see above) */
  readonly unanswered: number;
  /** send time of the newest decided round */
  readonly lastRound: number;
  readonly open: readonly OpenRound[];
  readonly samples: readonly Sample[];
  readonly lastProbe: number | null;
  readonly penalty: { readonly value: number; readonly at: number };
  readonly suppressed: boolean;
  readonly lastFlap: number | null;
  /** what the last suppression/quality decision was based on, for the transition reasons */
  readonly qualityBad: null | { cause: 'latency' | 'loss' | 'jitter'; text: string };
}

export interface HealthSnapshot {
  state: HealthState;
  since: number;
  /** mean RTT of the answered probes in the window; null with none */
  latencyMs: number | null;
  /** fraction of failed probes in the window; null with none */
  loss: number | null;
  /** mean absolute difference of consecutive RTTs in the window; null with fewer than two answers */
  jitterMs: number | null;
  lastProbe: number | null;
  transitions: number;
  /** held down by flap damping although the probes are good (or would be once they are) */
  suppressed: boolean;
  /** the flap-damping score now */
  penalty: number;
  /** what the probes say, damping aside */
  reachable: boolean;
  /** consecutive good / bad rounds; unanswered: rounds counted as failed for having no answer yet */
  good: number;
  bad: number;
  unanswered: number;
}

export interface StepResult {
  machine: HealthMachine;
  transition?: Transition;
}

/** What is wrong with these settings (empty when nothing). */
export function healthSettingsIssues(input: Partial<HealthSettings>): string[] {
  const s = { ...DEFAULT_HEALTH, ...input };
  const out: string[] = [];
  const pos = (v: number, name: string) => {
    if (!Number.isFinite(v) || v <= 0) out.push(`${name} must be a positive number (got ${v})`);
  };
  const count = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) out.push(`${name} must be an integer ≥ 1 (got ${v})`);
  };
  const frac = (v: number, name: string) => {
    if (!Number.isFinite(v) || v < 0 || v > 1) out.push(`${name} must be a fraction between 0 and 1 (got ${v})`);
  };
  pos(s.interval, 'interval');
  pos(s.timeout, 'timeout');
  count(s.down, 'down');
  count(s.up, 'up');
  count(s.targets, 'targets');
  pos(s.window, 'window');
  if (s.window < s.interval) out.push(`window (${s.window} ms) must be at least one interval (${s.interval} ms)`);
  if (s.policy !== 'any' && s.policy !== 'all') out.push(`policy must be "any" or "all" (got ${String(s.policy)})`);
  if (s.initial !== 'up' && s.initial !== 'down') out.push(`initial must be "up" or "down" (got ${String(s.initial)})`);
  if (s.latency) pos(s.latency.degraded, 'latency.degraded');
  if (s.jitter) pos(s.jitter.degraded, 'jitter.degraded');
  if (s.loss) {
    frac(s.loss.degraded, 'loss.degraded');
    if (s.loss.down !== undefined) frac(s.loss.down, 'loss.down');
  }
  if (s.late !== undefined) pos(s.late, 'late');
  if (s.minSamples !== undefined) count(s.minSamples, 'minSamples');
  if (s.holddown !== undefined && (!Number.isFinite(s.holddown) || s.holddown < 0)) out.push(`holddown must be ≥ 0 (got ${s.holddown})`);
  if (s.damping) {
    const d = { ...DEFAULT_DAMPING, ...s.damping };
    pos(d.penalty, 'damping.penalty');
    pos(d.reuse, 'damping.reuse');
    pos(d.halfLife, 'damping.halfLife');
    if (!(d.suppress > d.reuse)) out.push(`damping.suppress (${d.suppress}) must be above damping.reuse (${d.reuse})`);
  }
  return out;
}

function resolve(input: Partial<HealthSettings>): Resolved {
  const issues = healthSettingsIssues(input);
  if (issues.length > 0) throw new RangeError(`health settings: ${issues.join('; ')}`);
  const s: HealthSettings = { ...DEFAULT_HEALTH, ...input };
  const holddown = s.holddown ?? DEFAULT_HOLDDOWN;
  const damping = s.damping === false || holddown === 0 ? null : Object.freeze({ ...DEFAULT_DAMPING, ...(s.damping ?? {}) });
  const minSamples = s.minSamples ?? s.targets * Math.max(3, Math.ceil(s.window / s.interval / 4));
  return Object.freeze({ s: Object.freeze(s), damping, holddown, minSamples });
}

/** A new machine at time `now`, in `settings.initial` state (missing settings: DEFAULT_HEALTH). */
export function createMachine(settings: Partial<HealthSettings> = {}, now = 0): HealthMachine {
  const cfg = resolve(settings);
  const reachable = cfg.s.initial === 'up';
  return {
    cfg,
    now,
    state: reachable ? 'up' : 'down',
    since: now,
    transitions: 0,
    reachable,
    reachableSince: now,
    good: 0,
    bad: 0,
    unanswered: 0,
    lastRound: -Infinity,
    open: [],
    samples: [],
    lastProbe: null,
    penalty: { value: 0, at: now },
    suppressed: false,
    lastFlap: null,
    qualityBad: null,
  };
}

/** Feed one probe result. */
export function observe(m: HealthMachine, r: ProbeResult): StepResult {
  const now = Math.max(m.now, r.at);
  const { s } = m.cfg;
  const sample: Sample = r.ok && r.rttMs !== undefined ? { at: r.at, ok: true, rtt: r.rttMs } : { at: r.at, ok: r.ok };
  // The one copy this call makes: the helpers below update it in place (the caller's machine,
  // and the arrays it shares with it, are never written to).
  // The window's samples plus this one, in one pass (evaluate would otherwise copy them again
  // to drop the one that just aged out: this runs for every probe result).
  const windowStart = now - s.window;
  const samples: Sample[] = [];
  for (const x of m.samples) if (x.at > windowStart) samples.push(x);
  samples.push(sample);
  const next: Mutable = { ...m, now, samples, lastProbe: m.lastProbe === null ? r.at : Math.max(m.lastProbe, r.at) };
  const sentAt = r.sentAt ?? (r.ok ? r.at - (r.rttMs ?? 0) : r.at - s.timeout);
  const half = s.interval / 2;
  const i = next.open.findIndex((o) => Math.abs(o.sentAt - sentAt) < half);
  if (i >= 0) {
    const o = next.open[i]!;
    const updated = { sentAt: o.sentAt, oks: o.oks + (r.ok ? 1 : 0), fails: o.fails + (r.ok ? 0 : 1) };
    next.open = next.open.map((x, j) => (j === i ? updated : x));
  } else if (sentAt > next.lastRound + half) {
    const created = { sentAt, oks: r.ok ? 1 : 0, fails: r.ok ? 0 : 1 };
    next.open = [...next.open, created].sort((a, b) => a.sentAt - b.sentAt);
  } // else: a result for a round already decided, or older than one: it only counts in the window
  decideRounds(next, now);
  return evaluate(next, now);
}

/**
 * Let time pass without a result: closes overdue rounds, ages the window, releases damping.
 * A machine with nothing that time can change (no open round, no failed round to extend, no
 * damping to release, no quality thresholds to re-check) only has its clock moved: the daemon
 * ticks every machine several times a second, and most ticks are that.
 */
export function tick(m: HealthMachine, now: number): StepResult {
  const at = Math.max(m.now, now);
  const { s } = m.cfg;
  if (m.open.length === 0 && m.bad === 0 && !m.suppressed && m.qualityBad === null && !s.latency && !s.loss && !s.jitter) {
    return { machine: at === m.now ? m : { ...m, now: at } };
  }
  const next: Mutable = { ...m, now: at };
  decideRounds(next, at);
  return evaluate(next, at);
}

/** The state for `multihome status`, as of the machine's last call. */
export function snapshot(m: HealthMachine): HealthSnapshot {
  const st = stats(m.samples, m.now - m.cfg.s.window);
  return {
    state: m.state,
    since: m.since,
    latencyMs: st.latency,
    loss: st.loss,
    jitterMs: st.jitter,
    lastProbe: m.lastProbe,
    transitions: m.transitions,
    suppressed: m.suppressed,
    penalty: Math.round(penaltyAt(m, m.now)),
    reachable: m.reachable,
    good: m.good,
    bad: m.bad,
    unanswered: m.unanswered,
  };
}

/**
 * Worst-case ms from a hard outage to `down`: interval + max(timeout, (down-1)·interval + late)
 * (see the arithmetic at the top). `late` is `settings.late`, or its default for a link whose
 * mean RTT is `rttMs` (the result is the same for any RTT up to interval/2).
 */
export function detectionBound(settings: Partial<HealthSettings> = {}, rttMs = 0): number {
  const { s } = resolve(settings);
  const late = lateFor(s, rttMs);
  return s.interval + Math.max(s.timeout, (s.down - 1) * s.interval + late);
}

// ---------------------------------------------------------------------------------------------

type Mutable = { -readonly [K in keyof HealthMachine]: HealthMachine[K] };

function lateFor(s: Readonly<HealthSettings>, meanRtt: number | null): number {
  const auto = Math.max(s.interval, 2 * (meanRtt ?? 0));
  return Math.min(s.timeout, s.late ?? auto);
}

/** Decide the open rounds that can be decided, and close those past timeout + interval (in place). */
function decideRounds(m: Mutable, now: number): void {
  const { s } = m.cfg;
  for (;;) {
    let round: OpenRound | null = null;
    let good = false;
    let bad = false;
    for (const o of m.open) {
      good = s.policy === 'any' ? o.oks >= 1 : o.oks >= s.targets;
      bad = s.policy === 'any' ? o.fails >= s.targets : o.fails >= 1;
      if (good || bad || now >= o.sentAt + s.timeout + s.interval) {
        round = o;
        break;
      }
    }
    if (!round) return;
    // a round closed for being overdue: its missing results count as failed probes
    if (!good && !bad) {
      const missing = Math.max(0, s.targets - round.oks - round.fails);
      if (missing > 0) m.samples = [...m.samples, ...Array.from({ length: missing }, () => ({ at: now, ok: false }))];
    }
    // the decided round and every older one (stale now) leave the open list
    const sent = round.sentAt;
    m.open = m.open.length === 1 ? [] : m.open.filter((o) => o.sentAt > sent);
    m.lastRound = sent;
    m.good = good ? m.good + 1 : 0;
    m.bad = good ? 0 : m.bad + 1;
  }
}

function stats(samples: readonly Sample[], after: number): { n: number; loss: number | null; latency: number | null; jitter: number | null } {
  let n = 0;
  let fails = 0;
  let rtts = 0;
  let rttSum = 0;
  // jitter: consecutive answers in arrival order (all targets together: probe one target for a pure figure)
  let prev: number | null = null;
  let diffs = 0;
  let diffSum = 0;
  for (const x of samples) {
    if (x.at <= after) continue;
    n++;
    if (!x.ok) fails++;
    else if (x.rtt !== undefined) {
      rtts++;
      rttSum += x.rtt;
      if (prev !== null) {
        diffs++;
        diffSum += Math.abs(x.rtt - prev);
      }
      prev = x.rtt;
    }
  }
  return { n, loss: n ? fails / n : null, latency: rtts ? rttSum / rtts : null, jitter: diffs ? diffSum / diffs : null };
}

function penaltyAt(m: HealthMachine, now: number): number {
  const d = m.cfg.damping;
  if (!d || m.penalty.value === 0) return 0;
  return m.penalty.value * Math.pow(2, -(now - m.penalty.at) / d.halfLife);
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** Why a transition happened, for its log line. */
type Cause = { cause: TransitionCause; reason: string };

/** Update `m` (a private copy) for time `now` and say whether its state changed. */
function evaluate(m: Mutable, now: number): StepResult {
  const windowStart = now - m.cfg.s.window;
  if (m.samples.some((x) => x.at <= windowStart)) m.samples = m.samples.filter((x) => x.at > windowStart);
  m.unanswered = unansweredRounds(m, now, windowStart);
  const rawCause = hysteresis(m, now, windowStart);
  const released = releaseDamping(m, now);
  m.qualityBad = quality(m, now, windowStart);

  const target: HealthState = !m.reachable || m.suppressed ? 'down' : m.qualityBad ? 'degraded' : 'up';
  if (target === m.state) return { machine: m };
  const { cause, reason } = transitionCause(m, now, target, rawCause, released);
  const transition: Transition = { from: m.state, to: target, at: now, cause, reason };
  m.state = target;
  m.since = now;
  m.transitions += 1;
  return { machine: m, transition };
}

/** The window's probes since the provider last became usable: what the down and quality decisions look at. */
const recent = (m: Mutable, windowStart: number) => stats(m.samples, Math.max(windowStart, m.reachableSince));

/**
 * The rounds sent after the newest decided round, if it was bad, that have been missing the
 * answers they need (any: every one; all: at least one) for `late` ms, up to the first that is not.
 */
function unansweredRounds(m: Mutable, now: number, windowStart: number): number {
  const { s } = m.cfg;
  if (m.bad === 0) return 0;
  let unanswered = 0;
  const late = lateFor(s, stats(m.samples, windowStart).latency);
  for (let slot = m.lastRound + s.interval; ; slot += s.interval) {
    const o = m.open.find((x) => Math.abs(x.sentAt - slot) < s.interval / 2);
    const sentAt = o ? o.sentAt : slot;
    const missing = !o || (s.policy === 'any' ? o.oks === 0 : o.oks < s.targets);
    if (!missing || sentAt > now - late) break;
    unanswered++;
  }
  return unanswered;
}

/** What the probes say: hysteresis. Takes a usable provider down or brings a down one back, and says why. */
function hysteresis(m: Mutable, now: number, windowStart: number): Cause | null {
  if (m.reachable) {
    const down = downCause(m, windowStart);
    if (down) flap(m, now);
    return down;
  }
  if (m.good < m.cfg.s.up) return null;
  m.reachable = true;
  m.reachableSince = now;
  return { cause: 'recovered', reason: `${m.good} consecutive good probe rounds` };
}

/** Why a usable provider goes down now (`down` failed rounds, or loss ≥ loss.down); null when it does not. */
function downCause(m: Mutable, windowStart: number): Cause | null {
  const { s, minSamples } = m.cfg;
  const failed = m.bad + m.unanswered;
  if (failed >= s.down) {
    const detail = m.unanswered ? ` (${m.bad} failed, ${m.unanswered} unanswered)` : '';
    return { cause: 'failures', reason: `${failed} consecutive failed probe rounds${detail}` };
  }
  if (s.loss?.down !== undefined) {
    const q = recent(m, windowStart);
    if (q.n >= minSamples && q.loss !== null && q.loss >= s.loss.down) {
      return { cause: 'loss-down', reason: `loss ${pct(q.loss)} ≥ ${pct(s.loss.down)} over the last ${q.n} probes` };
    }
  }
  return null;
}

/** The probes took the provider down: a flap, which adds to the damping penalty (and may suppress it). */
function flap(m: Mutable, now: number): void {
  const { damping } = m.cfg;
  let penalty = m.penalty;
  let suppressed = m.suppressed;
  if (damping) {
    const value = penaltyAt(m, now) + damping.penalty;
    penalty = { value, at: now };
    if (value > damping.suppress) suppressed = true;
  }
  Object.assign(m, { reachable: false, reachableSince: now, good: 0, penalty, suppressed, lastFlap: now });
}

/** Flap damping: release, once the penalty has decayed below `reuse` or `holddown` has passed; says why, or null. */
function releaseDamping(m: Mutable, now: number): string | null {
  const { damping, holddown } = m.cfg;
  if (!m.suppressed || !damping) return null;
  const p = penaltyAt(m, now);
  const held = m.lastFlap === null ? Infinity : now - m.lastFlap;
  if (!(p < damping.reuse || held >= holddown)) return null;
  m.suppressed = false;
  return p < damping.reuse
    ? `flap damping released (penalty ${Math.round(p)} < ${damping.reuse})`
    : `flap damping released (held ${held} ms since the last flap)`;
}

/** Quality: what makes a usable provider degraded now (latency, loss, jitter over their thresholds, with recovery at QUALITY_RECOVERY of them), or null. */
function quality(m: Mutable, now: number, windowStart: number): HealthMachine['qualityBad'] {
  const { s, minSamples } = m.cfg;
  const latT = s.latency?.degraded;
  const lossT = s.loss?.degraded;
  const jitT = s.jitter?.degraded;
  if (!m.reachable || (latT === undefined && lossT === undefined && jitT === undefined)) return null;
  const q = recent(m, windowStart);
  if (q.n < minSamples) return null;
  if (latT !== undefined && q.latency !== null && q.latency > latT) return { cause: 'latency', text: `latency ${Math.round(q.latency)} ms > ${latT} ms` };
  if (lossT !== undefined && q.loss !== null && q.loss > lossT) return { cause: 'loss', text: `loss ${pct(q.loss)} > ${pct(lossT)}` };
  if (jitT !== undefined && q.jitter !== null && q.jitter > jitT) return { cause: 'jitter', text: `jitter ${Math.round(q.jitter)} ms > ${jitT} ms` };
  if (!m.qualityBad) return null;
  // Recovery is judged on a whole window sent since it became degraded (see the header).
  if (m.state === 'degraded' && now - m.since < s.window) return m.qualityBad;
  const latOk = latT === undefined || q.latency === null || q.latency <= latT * QUALITY_RECOVERY;
  const lossOk = lossT === undefined || q.loss === null || q.loss <= lossT * QUALITY_RECOVERY;
  const jitOk = jitT === undefined || q.jitter === null || q.jitter <= jitT * QUALITY_RECOVERY;
  return latOk && lossOk && jitOk ? null : m.qualityBad;
}

/** The cause and reason of the transition from m.state to `target`. */
function transitionCause(m: Mutable, now: number, target: HealthState, rawCause: Cause | null, released: string | null): Cause {
  if (target === 'down') {
    // only the probes take a provider down
    let reason = rawCause?.reason ?? 'down';
    if (m.suppressed) reason += `; flap damping holds it down (penalty ${Math.round(penaltyAt(m, now))} > ${m.cfg.damping?.suppress})`;
    return { cause: rawCause?.cause ?? 'failures', reason };
  }
  if (m.state === 'down') {
    let reason = released ?? rawCause?.reason ?? 'recovered';
    if (m.qualityBad) reason += `; ${m.qualityBad.text}`;
    return { cause: released ? 'damping-released' : 'recovered', reason };
  }
  if (target === 'degraded') return { cause: m.qualityBad!.cause, reason: m.qualityBad!.text };
  return { cause: 'quality-restored', reason: 'latency, loss and jitter back under their thresholds' };
}
