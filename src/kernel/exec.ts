// The one place that starts processes. Always an argv array, never a shell
// string; an optional network namespace wraps the command in `ip netns exec`.
import { spawn } from 'node:child_process';
import { InternalError } from '../errors/index.js';

export interface ExecOptions {
  /** run inside this named network namespace */
  netns?: string;
  /** written to stdin */
  input?: string;
  /** milliseconds; default 60 s */
  timeoutMs?: number;
  /** extra environment variables (added to this process's own) */
  env?: Record<string, string>;
  /** the command writes to this process's stderr (a progress bar on the terminal) instead of into `stderr` */
  inheritStderr?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nsArgv(argv: string[], netns?: string): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

/** Run a command; resolves with its exit code and output (never rejects for a non-zero exit). */
export function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const full = nsArgv(argv, opts.netns);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), {
      stdio: ['pipe', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new InternalError(`cannot run ${full[0]}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin!.on('error', () => undefined); // the command may exit before reading all input
    child.stdin!.end(opts.input ?? '');
  });
}

/** Run and require exit 0; the error names the command and carries its stderr. */
export async function runOk(argv: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new CommandError(nsArgv(argv, opts.netns), r.code, r.stderr.trim());
  }
  return r.stdout;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} exited ${code}${stderr ? `: ${stderr}` : ''}`);
  }
}

/** Run a command whose output is JSON. */
export async function runJson<T>(argv: string[], opts: ExecOptions = {}): Promise<T> {
  const out = await runOk(argv, opts);
  try {
    return JSON.parse(out.trim() === '' ? 'null' : out) as T;
  } catch {
    throw new InternalError(`${argv.join(' ')} printed no JSON: ${out.slice(0, 200)}`);
  }
}

/** Start a process that outlives this one (the confirm timer); returns its pid. */
export function spawnDetached(argv: string[]): number {
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid ?? 0;
}
