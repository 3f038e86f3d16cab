// `apply` with `routes: copy`: the copies are made before the transaction (the rules that
// send traffic to a copy table come after its routes), by `multihome routes sync` started in
// the target's namespace (netlink sockets belong to the namespace of the process that opens them).
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../config/assign.js';
import { copyTablesOf } from './route-copy.js';
import { CommandError, run } from '../kernel/exec.js';
import type { CopyStatus } from '../routecopy/engine.js';
import type { Target } from './transaction.js';

/** Longest a first copy may take (1,000,000 routes × 2 tables: 12 s on the benchmark machine). */
export const SYNC_TIMEOUT_MS = 30 * 60_000;

export async function syncCopies(cfg: ResolvedConfig, configFile: string, target: Target): Promise<CopyStatus | null> {
  if (copyTablesOf(cfg).length === 0) return null;
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const argv = [process.execPath, main, 'routes', 'sync', '-c', configFile, '--json'];
  // a full table takes seconds to minutes: no 60 s limit, and its progress bar on this terminal
  const r = await run(argv, { ...target.exec, timeoutMs: SYNC_TIMEOUT_MS, inheritStderr: process.stderr.isTTY === true });
  let out: (CopyStatus & { ok: boolean; error?: string }) | null = null;
  try {
    out = JSON.parse(r.stdout) as CopyStatus & { ok: boolean };
  } catch {
    // not JSON: the error is on stderr
  }
  if (r.code !== 0 || !out)
    throw new CommandError(['multihome', 'routes', 'sync'], r.code, out?.lastWriteError ?? out?.error ?? (r.stderr.trim() || 'see its message above'));
  return out;
}
