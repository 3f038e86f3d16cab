// `multihome routes sync`: one full resync of the provider tables that copy
// main (`routes: copy`), what `apply` runs before its transaction and the
// daemon runs at start and every `copy.check`. It runs in the namespace it
// syncs: with --netns it starts itself there.
import type { Command } from 'commander';
import { SYNC_TIMEOUT_MS } from '../../apply/copy.js';
import { checkConfig } from '../../apply/session.js';
import { copyTablesOf, startRouteCopy } from '../../apply/route-copy.js';
import { run } from '../../kernel/exec.js';
import { EXIT, UserError } from '../../errors/index.js';
import { DEFAULT_CONFIG, readConfigFile } from '../context.js';
import { printJson, progress } from '../output.js';
import { guarded } from './config-commands.js';
import { fileURLToPath } from 'node:url';

export function registerRoutes(program: Command): void {
  const routes = program.command('routes').description('the provider tables that copy main (`routes: copy`)');
  routes
    .command('sync')
    .description(
      "copy main into every `routes: copy` table now: add what is missing, replace what differs, remove stale copies; other tools' routes are reported and left alone",
    )
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--json', 'print JSON for scripts')
    .action((o: { config: string; json?: boolean }, cmd: Command) =>
      guarded(o.json, async () => {
        const netns = cmd.optsWithGlobals<{ netns?: string }>().netns;
        if (netns) {
          // netlink sockets open in the namespace of the process that opens them
          const main = fileURLToPath(new URL('../main.js', import.meta.url));
          const r = await run([process.execPath, main, 'routes', 'sync', '-c', o.config, ...(o.json ? ['--json'] : [])], {
            netns,
            timeoutMs: SYNC_TIMEOUT_MS,
            inheritStderr: process.stderr.isTTY === true,
          });
          process.stdout.write(r.stdout);
          process.stderr.write(r.stderr);
          return r.code;
        }
        const cfg = checkConfig(readConfigFile(o.config), o.config).config;
        if (copyTablesOf(cfg).length === 0)
          throw new UserError(
            `${o.config}: no provider has \`routes: copy\``,
            [],
            'set `routes: copy` on a provider (or at the top level) to copy main into its table',
          );
        const events: Record<string, unknown>[] = [];
        const bar = delayedBar();
        const copy = await startRouteCopy(cfg, { live: false, log: (e) => events.push(e), progress: bar.step }).finally(() => bar.done());
        const status = copy.status();
        copy.stop();
        if (o.json) printJson({ ok: status.writeErrors === 0, ...status, events });
        else {
          const r = status.lastResync!;
          process.stdout.write(
            `main: ${status.mainRoutes[4]} IPv4 and ${status.mainRoutes[6]} IPv6 routes to copy into ${status.tables.map((t) => `table ${t.table} (${t.provider})`).join(', ')}\n`,
          );
          process.stdout.write(`added ${r.added}, replaced ${r.replaced}, removed ${r.deleted} in ${r.ms} ms\n`);
          for (const f of status.foreign) process.stdout.write(`not multihome's, left alone: table ${f.table}: ${f.route} proto ${f.protocol}\n`);
          if (status.writeErrors) process.stdout.write(`${status.writeErrors} routes could not be written; last: ${status.lastWriteError}\n`);
        }
        return status.writeErrors === 0 ? EXIT.ok : EXIT.applyFailed;
      }),
    );
}

/** The progress bar, shown only once a sync has run for a second (short syncs stay quiet). */
function delayedBar(): { step: (phase: string, done: number, total: number) => void; done: () => void } {
  const start = Date.now();
  let bars: Record<string, ReturnType<typeof progress>> = {};
  return {
    step(phase, done, total) {
      if (Date.now() - start < 1000) return;
      const bar = (bars[phase] ??= progress(phase));
      bar.step(Math.max(0, done - 1), total, total ? '' : 'routes read');
    },
    done() {
      for (const b of Object.values(bars)) b.done();
      bars = {};
    },
  };
}
