// `multihome run` (the daemon), `multihome status`, `multihome reload`, `multihome failback`.
import type { Command } from 'commander';
import { down } from '../../apply/session.js';
import { lock } from '../../apply/statedir.js';
import { askDaemon, serveControl } from '../../daemon/control.js';
import { Daemon, type DaemonStatus } from '../../daemon/daemon.js';
import { EXIT, UserError } from '../../errors/index.js';
import { DEFAULT_CONFIG, readConfigFile, targetOf } from '../context.js';
import { printJson } from '../output.js';
import { sdNotify } from '../../kernel/sd-notify.js';
import { defaultFormat, formatEvent, type LogFormat, type LogLevel } from '../../daemon/log-format.js';
import { guarded } from './config-commands.js';

/** The daemon's events on stderr, as --log-format and --log-level say (daemon/log-format.ts). */
function logger(o: { logFormat?: string; logLevel: string }): (event: Record<string, unknown>) => void {
  const format = (o.logFormat ?? defaultFormat(process.env, process.stderr.isTTY === true)) as LogFormat;
  if (!['json', 'text', 'journal'].includes(format)) throw new UserError(`--log-format ${format}: expected text, json or journal`);
  if (!['error', 'warning', 'info', 'debug'].includes(o.logLevel)) throw new UserError(`--log-level ${o.logLevel}: expected error, warning, info or debug`);
  return (event) => {
    const line = formatEvent(event, format, o.logLevel as LogLevel);
    if (line) process.stderr.write(line);
  };
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'the daemon: apply, probe every uplink through itself, follow link, address and rule changes, fail over, repair what others delete; SIGHUP or `multihome reload` re-reads the config',
    )
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--on-stop <what>', 'on SIGTERM: keep the routing as it is, or remove it (as `down`)', 'keep')
    .option('--log-format <format>', 'text, json or journal (default: journal under systemd, text on a terminal, json otherwise)')
    .option('--log-level <level>', 'error, warning, info or debug', 'info')
    .action((o: { config: string; onStop: string; logFormat?: string; logLevel: string }, cmd: Command) =>
      guarded(false, async () => {
        const log = logger(o);
        const target = targetOf(cmd);
        // Probes open their sockets in this process: it must live in the router's namespace itself.
        if (cmd.optsWithGlobals<{ netns?: string }>().netns) {
          throw new UserError('the daemon runs inside the namespace it manages', [], 'start it as: ip netns exec NAME multihome run -c FILE');
        }
        if (o.onStop !== 'keep' && o.onStop !== 'remove') throw new UserError(`--on-stop ${o.onStop}: expected keep or remove`);
        const unlock = lock(target.stateDir);
        // under systemd (Type=notify): READY after the first apply, the watchdog fed while the loop is healthy
        const usec = Number(process.env.WATCHDOG_USEC ?? 0);
        const watchdogPid = Number(process.env.WATCHDOG_PID ?? process.pid);
        const notify = process.env.NOTIFY_SOCKET ? (state: string) => void sdNotify(state) : undefined;
        const daemon = new Daemon({
          target,
          log,
          readConfig: () => ({ text: readConfigFile(o.config), file: o.config }),
          ...(notify ? { notify } : {}),
          ...(notify && usec > 0 && watchdogPid === process.pid ? { watchdogMs: usec / 1000 } : {}),
        });
        let server: Awaited<ReturnType<typeof serveControl>>;
        try {
          await daemon.start();
          server = await serveControl(
            target.stateDir,
            async (req) =>
              req.cmd === 'status'
                ? { ok: true, status: await daemon.status() }
                : req.cmd === 'failback'
                  ? await daemon.failbackNow(req.group)
                  : await daemon.reload(),
            log,
          );
        } catch (e) {
          await daemon.stop();
          unlock();
          throw e;
        }
        process.on('SIGHUP', () => void daemon.reload());
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            log({ event: 'stopping', signal: sig, onStop: o.onStop });
            void daemon
              .stop()
              .then(async () => {
                server.close();
                if (o.onStop === 'remove') await down(target);
              })
              .catch((e: unknown) => log({ event: 'error', during: 'stop', error: e instanceof Error ? e.message : String(e) }))
              .finally(() => {
                unlock();
                resolve();
              });
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        return EXIT.ok;
      }),
    );

  program
    .command('status')
    .description('providers with their health and link, latency, loss, last probe, routes as the kernel holds them; groups; last apply, errors and repairs')
    .option('--json', 'print JSON for scripts')
    .action((o: { json?: boolean }, cmd: Command) =>
      guarded(o.json, async () => {
        const { status } = await askDaemon<{ status: DaemonStatus }>(targetOf(cmd).stateDir, { cmd: 'status' });
        if (o.json) printJson({ ok: true, ...status });
        else process.stdout.write(renderStatus(status));
        return EXIT.ok;
      }),
    );

  program
    .command('reload')
    .description('make the running daemon re-read its config (an invalid one is refused and the running one kept)')
    .option('--json', 'print JSON for scripts')
    .action((o: { json?: boolean }, cmd: Command) =>
      guarded(o.json, async () => {
        const r = await askDaemon<{ ok: boolean; error?: string }>(targetOf(cmd).stateDir, { cmd: 'reload' });
        if (o.json) printJson(r);
        else process.stdout.write(r.ok ? 'Reloaded.\n' : `Refused; the running config stays:\n${r.error}\n`);
        return r.ok ? EXIT.ok : EXIT.user;
      }),
    );
}

export function registerFailback(program: Command): void {
  program
    .command('failback [group]')
    .description('return a group (or every group) to its preferred members now: ends a failback hold, and is how `failback: manual` groups go back')
    .option('--json', 'print JSON for scripts')
    .action((group: string | undefined, o: { json?: boolean }, cmd: Command) =>
      guarded(o.json, async () => {
        const r = await askDaemon<{ ok: boolean; error?: string; released?: string[] }>(targetOf(cmd).stateDir, {
          cmd: 'failback',
          ...(group ? { group } : {}),
        });
        if (o.json) printJson(r);
        else process.stdout.write(r.ok ? `Failing back${r.released?.length ? ` (${r.released.join(', ')} held)` : ''}.\n` : `${r.error}\n`);
        return r.ok ? EXIT.ok : EXIT.user;
      }),
    );
}

function renderStatus(s: DaemonStatus): string {
  const ago = (ms: number | null) => (ms === null ? '-' : `${Math.max(0, Math.round((Date.now() - ms) / 1000))}s ago`);
  const size = (b: number | null) => (b === null ? '-' : b < 1e4 ? `${b}B` : b < 1e7 ? `${Math.round(b / 1e3)}kB` : `${Math.round(b / 1e6)}MB`);
  const lines = [`multihome ${s.pid}: ${s.config}, applied ${s.appliedAt ?? 'never'}`];
  if (s.lastApply && !s.lastApply.ok) lines.push(`last apply FAILED at ${s.lastApply.at} (${s.lastApply.why}): ${s.lastApply.error ?? ''}`);
  else if (s.lastError) lines.push(`last error ${s.lastError.at}: ${s.lastError.error}`);
  if (s.repairs)
    lines.push(
      `repaired ${s.repairs} time${s.repairs === 1 ? '' : 's'}; last ${s.lastRepair?.at ?? ''}: ${s.lastRepair?.what ?? ''} (after: ${s.lastRepair?.after ?? ''})`,
    );
  if (s.kernel && s.kernel.nft !== 'as applied') lines.push(`kernel: the nft table is ${s.kernel.nft} (read ${s.kernel.at})`);
  lines.push('', 'provider   state        since      latency  loss   jitter  last probe  conns  bytes    routes          probe');
  for (const p of s.providers) {
    const state = p.link ? 'down (link)' : p.state + (p.suppressed ? '*' : '');
    const routes = Object.entries(p.routes)
      .map(([f, v]) => `${f === 'ipv4' ? '4' : '6'}:${v === 'present' ? 'ok' : v === 'missing' ? 'MISSING' : 'out'}`)
      .join(' ');
    const note = p.link ? ` (${p.link})` : p.lastError && p.state !== 'up' ? ` (${p.lastError})` : '';
    lines.push(
      `${p.name.padEnd(10)} ${state.padEnd(12)} ${ago(p.since).padEnd(10)} ${(p.latencyMs === null ? '-' : `${p.latencyMs.toFixed(1)}ms`).padEnd(8)} ${(p.loss === null ? '-' : `${Math.round(p.loss * 100)}%`).padEnd(6)} ${(p.jitterMs === null ? '-' : `${p.jitterMs.toFixed(1)}ms`).padEnd(7)} ${ago(p.lastProbe).padEnd(11)} ${String(p.connections ?? '-').padEnd(6)} ${size(p.bytes).padEnd(8)} ${(routes || '-').padEnd(15)} ${p.probe ?? 'none'}${note}`,
    );
  }
  const metered = s.providers.filter((p) => p.usage);
  if (metered.length) {
    lines.push('', 'metered    period      used      quota');
    for (const p of metered)
      lines.push(
        `${p.name.padEnd(10)} ${p.usage!.period.padEnd(11)} ${size(p.usage!.bytes).padEnd(9)} ${p.usage!.limit === null ? '-' : `${size(p.usage!.limit)}${p.usage!.exhausted ? ' USED UP' : ''}`}`,
      );
  }
  if (s.groups.length) {
    lines.push('', 'group      active (as the kernel holds it)');
    for (const g of s.groups) {
      const held = g.held?.length ? `  (held back: ${g.held.join(', ')}; \`multihome failback ${g.name}\` returns now)` : '';
      lines.push(
        `${g.name.padEnd(10)} ${g.active.join(', ') || (s.kernel?.groups ? '(none: last resort)' : '(unknown: the kernel does not hold the last applied program)')}${held}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
