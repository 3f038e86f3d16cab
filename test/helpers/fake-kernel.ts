// An in-memory kernel behind the KernelPort (src/kernel/port.ts): steps are
// applied to a State the way the kernel would (an `ip -batch` stops at its
// first failing line, keeping the lines before it; a route via a gateway that
// is not on-link is refused; an admin-down link loses its routes). A test can
// make step N fail, "crash" the process at step N (nothing after it runs), or
// change the state underneath (drift, links going down). Every step is kept
// in `log`, so a test reads the transcript of what apply did.
import { createHash } from 'node:crypto';
import { gatewayOnLink } from '../../src/compile/links.js';
import type { EventBatch } from '../../src/kernel/event-codec.js';
import type { EventWatch, WatchOptions } from '../../src/kernel/events.js';
import type { KernelPort } from '../../src/kernel/port.js';
import type { NftSnapshot, RouteScope, Snapshot } from '../../src/kernel/read.js';
import { IpBatchError } from '../../src/kernel/write.js';
import { parseAddress } from '../../src/net/ip.js';
import { routeKey, ruleKey } from '../../src/state/format.js';
import type { Program } from '../../src/state/program.js';
import type { IpOp, Step } from '../../src/state/steps.js';
import type { LinkState, RouteState, State } from '../../src/state/types.js';

/** Thrown at the crash point: the test treats it as the process having been killed there. */
export class Crash extends Error {}

const clone = <T>(v: T): T => structuredClone(v);

export class FakeKernel implements KernelPort {
  readonly exec = {};
  state: State;
  /** the nft script loaded (what `nft -j` would print back) */
  private nftScript: string | null = null;
  get nftText(): string | null {
    return this.nftScript;
  }
  /** every step that ran (also the failed one), in order */
  readonly log: Step[] = [];
  /** the step number (0-based, counting every runStep) that fails like a kernel refusal */
  failAt: number | null = null;
  /** the step number at which the "process" dies: that step is not run */
  crashAt: number | null = null;
  /** set by the crash: the process is gone, so nothing it would still do reaches the kernel (no revert) */
  dead = false;
  /** ops applied one by one: crash after this many ip ops of the step at crashAt (a kill mid-batch) */
  crashAfterOps = 0;
  /** the read (0-based, counting every readState) at which the process dies: after the last step, before the record */
  crashAtRead: number | null = null;
  private reads = 0;
  /** every read, in order: `state` (readState) or `nft` (the table alone: an apply given what is `known`) */
  readonly readLog: ('state' | 'nft')[] = [];
  get readCount(): number {
    return this.reads;
  }
  /** called before each step (after the fail/crash checks): change the state underneath */
  beforeStep: ((n: number, s: Step) => void) | null = null;
  conntrack = new Map<number, number>();
  readonly conntrackDeleted: number[] = [];
  counterValues: Record<string, { packets: number; bytes: number }> = {};
  foreign: Program = { chains: [] };
  private steps = 0;
  /** how many steps have run: a test sets crashAt = stepCount + n to kill the process n steps from now */
  get stepCount(): number {
    return this.steps;
  }
  private watchers: ((b: EventBatch) => void)[] = [];

  constructor(links: LinkState[], sysctls: Record<string, string> = {}) {
    this.state = { rules: [], routes: [], nft: null, sysctls: { ...sysctls }, links: clone(links) };
    for (const l of links) this.addLinkSysctls(l.name);
    this.state.sysctls['net/ipv4/ip_forward'] ??= '0';
    this.state.sysctls['net/ipv6/conf/all/forwarding'] ??= '0';
  }

  private addLinkSysctls(name: string): void {
    this.state.sysctls[`net/ipv4/conf/${name}/src_valid_mark`] ??= '0';
    this.state.sysctls[`net/ipv6/conf/${name}/accept_ra`] ??= '1';
  }

  // ---- KernelPort

  private alive(): void {
    if (this.dead) throw new Crash('the process was killed');
  }

  readState(keys: string[], _scope?: RouteScope): Promise<Snapshot> {
    this.alive();
    this.readLog.push('state');
    if (this.crashAtRead === this.reads++) {
      this.dead = true;
      throw new Crash('killed while reading back');
    }
    const s = clone(this.state);
    const sysctls: Record<string, string> = {};
    for (const k of keys) if (this.state.sysctls[k] !== undefined) sysctls[k] = this.state.sysctls[k]!;
    return Promise.resolve({ state: { ...s, sysctls }, nftJson: this.nftScript === null ? null : JSON.stringify({ fake: this.nftScript }) });
  }

  readNft(): Promise<NftSnapshot> {
    this.alive();
    this.readLog.push('nft');
    return Promise.resolve({ state: clone(this.state.nft), json: this.nftScript === null ? null : JSON.stringify({ fake: this.nftScript }) });
  }

  readLinks(): Promise<LinkState[]> {
    return Promise.resolve(clone(this.state.links));
  }

  readSysctls(keys: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const k of keys) if (this.state.sysctls[k] !== undefined) out[k] = this.state.sysctls[k]!;
    return Promise.resolve(out);
  }

  async runStep(step: Step): Promise<void> {
    this.alive();
    const n = this.steps++;
    this.log.push(step);
    if (this.crashAt === n) {
      if (step.kind === 'ip' && this.crashAfterOps > 0) this.ipOps(step.ops.slice(0, this.crashAfterOps), step);
      this.dead = true;
      throw new Crash(`killed at step ${n + 1} (${step.kind})`);
    }
    if (this.failAt === n) throw new Error(`injected kernel refusal at step ${n + 1}`);
    this.beforeStep?.(n, step);
    await Promise.resolve();
    switch (step.kind) {
      case 'sysctl':
        // in order, as `sysctl -w` writes them: those before a missing key are written
        for (const { key, value } of step.settings) {
          if (this.state.sysctls[key] === undefined) throw new Error(`sysctl: cannot stat /proc/sys/${key}: No such file or directory`);
          this.state.sysctls[key] = value;
        }
        return;
      case 'ip':
        this.ipOps(step.ops, step);
        return;
      case 'nft-load':
        this.loadNft(step.script);
        return;
      case 'nft-restore':
        this.loadNft((JSON.parse(step.json) as { fake: string }).fake);
        return;
      case 'nft-delete':
        if (!this.state.nft) throw new Error('Error: No such file or directory; did you mean table ‘multihome’?');
        this.state.nft = null;
        this.nftScript = null;
        this.emit({ nft: true });
        return;
    }
  }

  flushCopies(): Promise<void> {
    return Promise.resolve();
  }

  conntrackDelete(mark: number, mask: number): Promise<number> {
    const n = this.conntrack.get((mark & mask) >>> 0) ?? 0;
    this.conntrack.delete((mark & mask) >>> 0);
    this.conntrackDeleted.push(mark);
    return Promise.resolve(n);
  }

  conntrackCount(mark: number, mask: number): Promise<number> {
    return Promise.resolve(this.conntrack.get((mark & mask) >>> 0) ?? 0);
  }

  counters(): Promise<Record<string, { packets: number; bytes: number }>> {
    return Promise.resolve(clone(this.counterValues));
  }

  foreignProgram(): Promise<Program> {
    return Promise.resolve(clone(this.foreign));
  }

  watch(_o: WatchOptions, onBatch: (b: EventBatch) => void): Promise<EventWatch> {
    this.watchers.push(onBatch);
    return Promise.resolve({ close: () => (this.watchers = this.watchers.filter((w) => w !== onBatch)) });
  }

  // ---- the kernel's behaviour

  private ipOps(ops: IpOp[], step: Extract<Step, { kind: 'ip' }>): void {
    const tables = new Set<number>();
    let rules = false;
    for (const op of ops) {
      try {
        if ('route' in op) {
          this.routeOp(op.op, op.route);
          tables.add(op.route.table);
        } else {
          this.ruleOp(op.op, op.rule);
          rules = true;
        }
      } catch (e) {
        this.emit({ routes: [...tables], rule: rules });
        throw new IpBatchError(['ip', `-${step.family}`, '-batch', '-'], 1, `${(e as Error).message}\nCommand failed -:${ops.indexOf(op) + 1}`, op);
      }
    }
    this.emit({ routes: [...tables], rule: rules });
  }

  private routeOp(op: 'add' | 'replace' | 'del', r: RouteState): void {
    const i = this.state.routes.findIndex((x) => routeKey(x) === routeKey(r));
    if (op === 'del') {
      if (i < 0 || this.state.routes[i]!.protocol !== r.protocol) throw new Error('RTNETLINK answers: No such process');
      this.state.routes.splice(i, 1);
      return;
    }
    if (op === 'add' && i >= 0) throw new Error('RTNETLINK answers: File exists');
    if (r.gateway && r.dev) {
      const link = this.state.links.find((l) => l.name === r.dev);
      const gw = parseAddress(r.gateway);
      if (!link) throw new Error(`Cannot find device "${r.dev}"`);
      if (!link.up || !gw || !gatewayOnLink(link, gw)) throw new Error('Error: Nexthop has invalid gateway.');
    }
    if (i >= 0) this.state.routes[i] = clone(r);
    else this.state.routes.push(clone(r));
  }

  private ruleOp(op: 'add' | 'del', r: State['rules'][number]): void {
    const i = this.state.rules.findIndex((x) => ruleKey(x) === ruleKey(r));
    if (op === 'del') {
      if (i < 0) throw new Error('RTNETLINK answers: No such file or directory');
      this.state.rules.splice(i, 1);
      return;
    }
    if (i >= 0) throw new Error('RTNETLINK answers: File exists');
    // a new rule goes after the rules of its pref, as fib_nl_newrule does
    const at = this.state.rules.findIndex((x) => x.family > r.family || (x.family === r.family && x.pref > r.pref));
    this.state.rules.splice(at < 0 ? this.state.rules.length : at, 0, clone(r));
  }

  private loadNft(script: string): void {
    const fp = /comment "multihome ([0-9a-f]+)"/.exec(script)?.[1] ?? '';
    this.nftScript = script;
    this.state.nft = { family: 'inet', name: 'multihome', fingerprint: fp, digest: createHash('sha256').update(script).digest('hex').slice(0, 16) };
    this.emit({ nft: true });
  }

  private emit(b: Partial<EventBatch>): void {
    const batch: EventBatch = { links: [], addr: false, rule: false, routes: [], nft: false, ...b };
    if (!batch.nft && !batch.rule && batch.routes.length === 0 && batch.links.length === 0 && !batch.addr) return;
    for (const w of [...this.watchers]) w(batch);
  }

  // ---- what other software (or an admin) does underneath

  /** `ip link set DEV down|up`; down takes the link's routes away, as the kernel does. */
  setLink(name: string, up: boolean, carrier = up): void {
    const l = this.state.links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name}`);
    l.up = up;
    l.carrier = up && carrier;
    if (!up) this.state.routes = this.state.routes.filter((r) => r.dev !== name);
    this.emit({ links: [{ index: l.index, name, up: l.up, carrier: l.carrier, deleted: false }] });
  }

  deleteLink(name: string): void {
    const l = this.state.links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name}`);
    this.state.links = this.state.links.filter((x) => x !== l);
    this.state.routes = this.state.routes.filter((r) => r.dev !== name);
    for (const k of Object.keys(this.state.sysctls)) if (k.split('/')[3] === name) delete this.state.sysctls[k];
    this.emit({ links: [{ index: l.index, name, up: false, carrier: false, deleted: true }] });
  }

  addLink(link: LinkState): void {
    this.state.links.push(clone(link));
    this.addLinkSysctls(link.name);
    this.emit({ links: [{ index: link.index, name: link.name, up: link.up, carrier: link.carrier, deleted: false }], addr: true });
  }

  setAddresses(name: string, addresses: LinkState['addresses']): void {
    const l = this.state.links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name}`);
    l.addresses = clone(addresses);
    this.emit({ addr: true });
  }

  flushTable(table: number): void {
    this.state.routes = this.state.routes.filter((r) => r.table !== table);
    this.emit({ routes: [table] });
  }

  deleteRules(pred: (r: State['rules'][number]) => boolean): void {
    this.state.rules = this.state.rules.filter((r) => !pred(r));
    this.emit({ rule: true });
  }

  deleteNft(): void {
    this.state.nft = null;
    this.nftScript = null;
    this.emit({ nft: true });
  }

  /** the steps that ran since the last call, as short text */
  transcript(): string[] {
    const out = this.log.splice(0).flatMap((s) => {
      if (s.kind === 'ip')
        return [
          `ip -${s.family}: ${s.ops.map((o) => `${o.op} ${'route' in o ? `route ${o.route.table}/${o.route.dst}` : `rule ${o.rule.pref} ${o.rule.action}`}`).join(', ')}`,
        ];
      if (s.kind === 'sysctl') return s.settings.map((x) => `sysctl ${x.key}=${x.value}`);
      return [s.kind];
    });
    return out;
  }
}
