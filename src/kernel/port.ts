// Every kernel effect apply and the daemon have, behind one interface (as the
// route copier's CopyPort is): reading state, running steps, conntrack,
// counters, the other tools' netfilter rules. Production passes `realKernel`;
// tests pass an in-memory fake (test/helpers/fake-kernel.ts) that applies the
// steps to a State and can fail at step N or change underneath, so apply,
// revert, crash recovery and the daemon's reactions are proven without root.
import type { Program } from '../state/program.js';
import type { Step } from '../state/steps.js';
import type { LinkState } from '../state/types.js';
import { countConntrackByMark, deleteConntrackByMark } from './conntrack.js';
import type { EventBatch } from './event-codec.js';
import { watchKernel, type EventWatch, type WatchOptions } from './events.js';
import type { ExecOptions } from './exec.js';
import { readForeignProgram } from './read-full.js';
import {
  flushCopies,
  readLinks,
  readNft,
  readProviderCounters,
  readState,
  readSysctls,
  type NftSnapshot,
  type ProviderCounter,
  type RouteScope,
  type Snapshot,
} from './read.js';
import { ipBatch, nftDelete, nftLoad, nftRestoreJson, sysctlWrite } from './write.js';

export interface KernelPort {
  /** where programs run (`ip netns exec NAME` for --netns); also what route copies and timers are started with */
  readonly exec: ExecOptions;
  /** rules, the routes in `scope` (default: all), links, multihome's nft table and the sysctls in `keys` */
  readState(sysctlKeys: string[], scope?: RouteScope): Promise<Snapshot>;
  /** multihome's nft table alone (state and JSON, as in readState) */
  readNft(): Promise<NftSnapshot>;
  readLinks(): Promise<LinkState[]>;
  /** values of the sysctls that exist (a key that does not is left out) */
  readSysctls(keys: string[]): Promise<Record<string, string>>;
  /** carry out one step; throws when the kernel refuses (an IpBatchError names the op) */
  runStep(step: Step): Promise<void>;
  /** remove the route copier's copies from these tables */
  flushCopies(tables: number[], protocol: number): Promise<void>;
  /** delete (count) the conntrack entries whose ctmark & mask == mark, both families */
  conntrackDelete(mark: number, mask: number): Promise<number>;
  conntrackCount(mark: number, mask: number): Promise<number>;
  /** packets and bytes of each provider chain's counter (`to_NAME`) */
  counters(): Promise<Record<string, ProviderCounter>>;
  /** every other tool's netfilter rules (nft ruleset without multihome's table, iptables) as a program */
  foreignProgram(): Promise<Program>;
  /** follow kernel changes (links, addresses, rules, the routes of `o.tables`, nftables); the daemon's input */
  watch(o: WatchOptions, onBatch: (b: EventBatch) => void, onLost: (why: string) => void): Promise<EventWatch>;
}

function runStepOn(step: Step, exec: ExecOptions): Promise<void> {
  switch (step.kind) {
    case 'sysctl':
      return sysctlWrite(step.settings, exec);
    case 'ip':
      return ipBatch(step.family, step.ops, exec);
    case 'nft-load':
      return nftLoad(step.script, exec);
    case 'nft-restore':
      return nftRestoreJson(step.json, exec);
    case 'nft-delete':
      return nftDelete(exec);
  }
}

/** The kernel of this namespace, or of `exec.netns`. */
export function realKernel(exec: ExecOptions = {}): KernelPort {
  return {
    exec,
    readState: (keys, scope) => readState(keys, exec, scope),
    readNft: () => readNft(exec),
    readLinks: () => readLinks(exec),
    readSysctls: (keys) => readSysctls(keys, exec),
    runStep: (step) => runStepOn(step, exec),
    flushCopies: (tables, protocol) => flushCopies(tables, protocol, exec),
    conntrackDelete: (mark, mask) => deleteConntrackByMark(mark, mask, exec),
    conntrackCount: (mark, mask) => countConntrackByMark(mark, mask, exec),
    counters: () => readProviderCounters(exec),
    foreignProgram: () => readForeignProgram(exec),
    // the listener opens its sockets in the namespace it runs in: the daemon's own
    watch: (o, onBatch, onLost) => watchKernel(o, onBatch, onLost),
  };
}
