// Hooks: executables the daemon starts on every provider state change (like
// mwan3's user script), each with its own timeout, beside the reconcile loop.
// A hook is checked again before every run: one that another user could have
// replaced since the config was loaded is refused, not run as root.
import type { ResolvedConfig } from '../config/assign.js';
import { untrustedHook } from '../apply/trust.js';
import { run, type ExecResult } from '../kernel/exec.js';

export type HookRunner = (argv: string[], env: Record<string, string>, timeoutMs: number) => Promise<Pick<ExecResult, 'code' | 'stderr'>>;

const runHookProcess: HookRunner = (argv, env, timeoutMs) => run(argv, { env, timeoutMs });

export interface HookChange {
  provider: string;
  from: string;
  to: string;
  reason: string;
}

export async function runHooks(
  cfg: ResolvedConfig,
  c: HookChange,
  log: (e: Record<string, unknown>) => void,
  runner: HookRunner = runHookProcess,
): Promise<void> {
  const env = {
    MULTIHOME_PROVIDER: c.provider,
    MULTIHOME_INTERFACE: cfg.providers[c.provider]?.interface ?? '',
    MULTIHOME_FROM: c.from,
    MULTIHOME_TO: c.to,
    MULTIHOME_REASON: c.reason,
  };
  await Promise.all(
    cfg.hooks.map(async (hook) => {
      const untrusted = untrustedHook(hook);
      if (untrusted) {
        log({ event: 'hook', hook, provider: c.provider, refused: untrusted });
        return;
      }
      try {
        const res = await runner([hook], env, cfg.hook_timeout);
        log({ event: 'hook', hook, provider: c.provider, code: res.code, ...(res.code !== 0 ? { stderr: res.stderr.trim().slice(0, 500) } : {}) });
      } catch (e) {
        log({ event: 'hook', hook, provider: c.provider, error: e instanceof Error ? e.message : String(e) });
      }
    }),
  );
}
