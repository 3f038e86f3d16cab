// Network-namespace primitives for the lab. Every command that changes
// something names its namespace (`ip -n NS …` or `ip netns exec NS …`), so
// nothing here can alter the host's own namespace; only `ip netns add/del`
// act on the host, and they only create/remove the named namespace handles.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { InternalError } from '../errors/index.js';
import { run, runJson, runOk, type ExecOptions, type ExecResult } from './exec.js';

/** Namespace names end up as file names under /run/netns and in argv: keep them plain. */
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function checkName(what: string, name: string): string {
  if (!NAME_RE.test(name)) throw new InternalError(`bad ${what} name ${JSON.stringify(name)}`);
  return name;
}

export async function addNetns(name: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', checkName('namespace', name)]);
  await pinHashSeed(name);
}

/**
 * The multipath hash seed of every namespace the lab makes. The kernel's default (0) is a
 * random seed per boot, so which nexthop of a multipath route a flow takes would change from
 * one boot to the next; a fixed seed makes lab runs repeatable. MULTIHOME_HASH_SEED picks
 * another value (the tests must pass with any).
 */
function labHashSeed(): number {
  const v = Number(process.env.MULTIHOME_HASH_SEED ?? '1');
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : 1;
}

/** Pin the namespace's multipath hash seed (kernels before 6.11 have no such sysctl: nothing to pin). */
export async function pinHashSeed(ns: string): Promise<void> {
  await run(['sysctl', '-q', '-w', `net.ipv4.fib_multipath_hash_seed=${labHashSeed()}`], { netns: checkName('namespace', ns) });
}

/** Delete a namespace; a namespace that is already gone is not an error. */
export async function delNetns(name: string): Promise<void> {
  checkName('namespace', name);
  const r = await run(['ip', 'netns', 'del', name]);
  if (r.code !== 0 && (await listNetns()).includes(name)) {
    throw new InternalError(`ip netns del ${name} exited ${r.code}: ${r.stderr.trim()}`);
  }
}

/** Names of all named namespaces (`ip -j netns list` prints nothing at all when there are none). */
export async function listNetns(): Promise<string[]> {
  const list = await runJson<{ name: string }[] | null>(['ip', '-j', 'netns', 'list']);
  return (list ?? []).map((n) => n.name);
}

/** Pids of the processes living in a namespace (no JSON form exists; the output is one pid a line). */
export async function netnsPids(name: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', checkName('namespace', name)]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/**
 * A veth pair from ifA in nsA to ifB in nsB, created directly across the two
 * namespaces so that neither end ever appears in the host namespace.
 */
export async function vethBetween(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
  checkName('namespace', nsA);
  checkName('namespace', nsB);
  checkName('interface', ifA);
  checkName('interface', ifB);
  // `name`/`dev` keywords always: an interface may be called "up" (a keyword of `ip link`).
  await runOk(['ip', '-n', nsA, 'link', 'add', 'name', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
}

/** Any `ip` subcommand, confined to a namespace with `-n`. */
export async function netnsIp(ns: string, args: string[]): Promise<string> {
  return runOk(['ip', '-n', checkName('namespace', ns), ...args]);
}

/** Any `ip -j` subcommand in a namespace, parsed. */
export async function netnsIpJson<T>(ns: string, args: string[]): Promise<T> {
  return runJson<T>(['ip', '-n', checkName('namespace', ns), '-j', ...args]);
}

export async function addAddr(ns: string, dev: string, cidr: string): Promise<void> {
  await netnsIp(ns, ['addr', 'add', cidr, 'dev', checkName('interface', dev)]);
}

export async function linkUp(ns: string, dev: string): Promise<void> {
  await netnsIp(ns, ['link', 'set', 'dev', checkName('interface', dev), 'up']);
}

/** `ip -n NS route add <spec…>`, e.g. ['default', 'via', '10.0.0.1']. */
export async function addRoute(ns: string, spec: string[]): Promise<void> {
  // a leading "-6" picks the family (`ip -6 route add default via …` reads better than guessing)
  await netnsIp(ns, spec[0] === '-6' ? ['-6', 'route', 'add', ...spec.slice(1)] : ['route', 'add', ...spec]);
}

/** sysctl inside the namespace: /proc/sys/net is per namespace, so this never reaches the host. */
export async function sysctlIn(ns: string, key: string, value: string): Promise<void> {
  if (!/^[A-Za-z0-9_./-]+$/.test(key) || !/^[A-Za-z0-9_ .-]*$/.test(value)) {
    throw new InternalError(`bad sysctl ${key}=${value}`);
  }
  await runOk(['sysctl', '-q', '-w', `${key}=${value}`], { netns: checkName('namespace', ns) });
}

/** Run a command inside a namespace and wait for it (exit code and output, never rejects on non-zero). */
export async function execInNetns(ns: string, argv: string[], opts: Omit<ExecOptions, 'netns'> = {}): Promise<ExecResult> {
  return run(argv, { ...opts, netns: checkName('namespace', ns) });
}

/** As execInNetns but requires exit 0. */
export async function execInNetnsOk(ns: string, argv: string[], opts: Omit<ExecOptions, 'netns'> = {}): Promise<string> {
  return runOk(argv, { ...opts, netns: checkName('namespace', ns) });
}

/** Replace-or-create content via `nft -f -` inside a namespace. */
export async function nftIn(ns: string, script: string): Promise<void> {
  await runOk(['nft', '-f', '-'], { netns: checkName('namespace', ns), input: script });
}

/** `nft -j …` inside a namespace, parsed. */
export async function nftJsonIn<T>(ns: string, args: string[]): Promise<T> {
  return runJson<T>(['nft', '-j', ...args], { netns: checkName('namespace', ns) });
}

export interface BackgroundProcess {
  /** pid of the process, which is also its process-group id */
  readonly pid: number;
  /** resolves once a stdout line contains `marker`; rejects if the process exits first or on timeout */
  waitForOutput(marker: string, timeoutMs: number): Promise<string>;
  /** SIGTERM the process group, SIGKILL it if it is still there after a grace period */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number>;
}

/**
 * Start a long-running process inside a namespace. It gets its own process
 * group (detached) so stop() reaches any children too; `ip netns exec` execs the
 * command in place, so the pid is the command's own.
 */
export function spawnInNetns(ns: string, argv: string[], o: { stderrTo?: string } = {}): BackgroundProcess {
  // stderr appended to a file when asked (a daemon's log, read by a test)
  const errFd = o.stderrTo ? fs.openSync(o.stderrTo, 'a') : null;
  const child: ChildProcess = spawn('ip', ['netns', 'exec', checkName('namespace', ns), ...argv], {
    detached: true,
    stdio: ['ignore', 'pipe', errFd ?? 'pipe'],
  });
  if (errFd !== null) fs.closeSync(errFd);
  let stdout = '';
  let stderr = '';
  let done = false;
  const listeners = new Set<() => void>();
  // Listen for 'error' before anything can throw: a failed spawn emits it later.
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  void exited.then(() => {
    done = true;
    for (const l of listeners) l();
  });
  if (child.pid === undefined) throw new InternalError(`cannot start ${argv.join(' ')} in ${ns}`);
  const pid = child.pid;
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
  });

  // Do not keep the parent alive just because a background server runs: after
  // `lab up` it outlives the CLI (its pid is recorded for `lab down`).
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

  return {
    pid,
    exited,
    waitForOutput(marker, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = stdout.split('\n').find((l) => l.includes(marker));
          if (line !== undefined) finish(() => resolve(line));
          else if (done) finish(() => reject(new InternalError(`${argv.join(' ')} in ${ns} exited before "${marker}": ${stderr.trim()}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new InternalError(`${argv.join(' ')} in ${ns}: no "${marker}" within ${timeoutMs} ms: ${stderr.trim()}`))),
          timeoutMs,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 2000) {
      if (done) return;
      // Whoever awaits the stop needs the event loop alive until the child is gone:
      // take back the unref() from above for that long.
      child.ref();
      killGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
      try {
        if ((await Promise.race([exited, late])) === 'late') {
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * End every process still inside a namespace (a namespace handle can be
 * deleted while processes keep the namespace, and its interfaces, alive).
 * SIGTERM first, SIGKILL whatever is left after the grace period.
 */
export async function stopNetnsProcesses(ns: string, graceMs = 1000): Promise<void> {
  let pids = await netnsPids(ns);
  // Single pids, not groups: every process in the namespace is listed, and a
  // group could reach processes outside it.
  for (const pid of pids) killPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    pids = await netnsPids(ns);
  }
  for (const pid of pids) killPid(pid, 'SIGKILL');
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Signal a process group, falling back to the single pid; a process that is gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
