// validate, plan, apply, down: the commands that take a config.
import type { Command } from 'commander';
import { isEmpty } from '../../apply/plan.js';
import { describePlan } from '../../apply/render.js';
import { applyCommand, checkConfig, downCommand, ownershipOf, planPrepared, prepare } from '../../apply/session.js';
import { EXIT, UserError } from '../../errors/index.js';
import { startConfirmTimer } from '../../apply/confirm.js';
import { DEFAULT_CONFIG, readConfigFile, targetOf } from '../context.js';
import { copyTablesOf } from '../../apply/route-copy.js';
import { printJson, progress, reportError } from '../output.js';

interface Opts {
  config: string;
  json?: boolean;
  confirm?: string;
}

const withConfig = (c: Command) => c.option('-c, --config <file>', 'config file', DEFAULT_CONFIG).option('--json', 'print JSON for scripts');

/** Run a command body, turning every error into its message and exit code. */
export async function guarded(json: boolean | undefined, body: () => number | Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    code = reportError(e, Boolean(json));
  }
  process.exitCode = code;
}

export function registerConfigCommands(program: Command): void {
  withConfig(program.command('validate').description('check a config file; exit 1 with every error (file:line:col) if it is wrong')).action((opts: Opts) =>
    guarded(opts.json, () => {
      const r = checkConfig(readConfigFile(opts.config), opts.config);
      const providers = Object.values(r.config.providers).map((p) => ({
        name: p.name,
        interface: p.interface,
        table: p.table,
        mark: p.mark,
        routes: p.routes,
      }));
      if (opts.json) printJson({ ok: true, providers, policies: r.config.policies.length });
      else process.stdout.write(`${opts.config}: ok (${providers.length} providers, ${r.config.policies.length} policies)\n`);
      return EXIT.ok;
    }),
  );

  withConfig(program.command('plan').description('show what apply would change; "No changes." when the kernel matches the config')).action(
    (opts: Opts, cmd: Command) =>
      guarded(opts.json, async () => {
        const target = targetOf(cmd);
        const prep = await prepare(readConfigFile(opts.config), opts.config, target);
        const out = await planPrepared(prep, target);
        const copyTables = copyTablesOf(prep.config).map((t) => t.table);
        if (opts.json) printJson({ ok: true, changes: !isEmpty(out.plan), plan: out.plan, copyTables });
        else {
          process.stdout.write(describePlan(out.plan, out.previousScript) + '\n');
          // the copies are not listed route by route (a full table is a million lines)
          if (copyTables.length && !isEmpty(out.plan))
            process.stdout.write(
              `Tables ${copyTables.join(', ')} copy main: apply (or the daemon) brings them to main's routes; \`multihome routes sync\` reports what it changed.\n`,
            );
        }
        return EXIT.ok;
      }),
  );

  withConfig(program.command('apply').description('apply the config in one verified step; on any failure the previous state is restored'))
    .option('--confirm <seconds>', 'revert automatically unless `multihome confirm` is run within SECONDS')
    .action((opts: Opts, cmd: Command) =>
      guarded(opts.json, async () => {
        const target = targetOf(cmd);
        const confirmSecs = opts.confirm === undefined ? undefined : Number(opts.confirm);
        if (confirmSecs !== undefined && !(Number.isInteger(confirmSecs) && confirmSecs > 0)) {
          throw new UserError(`--confirm ${opts.confirm}: expected a whole number of seconds above 0`);
        }
        const prep = await prepare(readConfigFile(opts.config), opts.config, target);
        const bar = progress('applying');
        const { result, copies, deadline } = await applyCommand(prep, target, {
          configFile: opts.config,
          ...(confirmSecs !== undefined ? { confirmSeconds: confirmSecs } : {}),
          startTimer: () => startConfirmTimer(target),
          onStep: (i, n, s) => bar.step(i, n, s.kind),
        }).finally(() => bar.done());
        const copied = copies?.lastResync ? copies.lastResync.added + copies.lastResync.replaced + copies.lastResync.deleted : 0;
        if (opts.json)
          printJson({
            ok: true,
            changed: result.changed || copied > 0,
            plan: result.plan,
            copies,
            confirmBy: deadline ? new Date(deadline).toISOString() : null,
          });
        else {
          if (copies?.lastResync && copied > 0) {
            const r = copies.lastResync;
            process.stdout.write(
              `Copied main into ${copies.tables.map((t) => `table ${t.table}`).join(', ')}: ${r.added} added, ${r.replaced} replaced, ${r.deleted} removed (${r.ms} ms).\n`,
            );
          }
          for (const f of copies?.foreign ?? [])
            process.stdout.write(`warning: table ${f.table}: ${f.route} proto ${f.protocol} is not multihome's; it stays and is not copied over.\n`);
          process.stdout.write(
            result.changed ? `${describePlan(result.plan)}\n\nApplied and verified.\n` : copied > 0 ? 'Nothing else to change.\n' : 'No changes.\n',
          );
          if (deadline) process.stdout.write(`Run \`multihome confirm\` within ${confirmSecs}s to keep this change, or it will be reverted.\n`);
        }
        return EXIT.ok;
      }),
    );

  program
    .command('down')
    .description('remove everything multihome added and restore the sysctls it changed')
    .option('-c, --config <file>', 'config (for a non-default route_protocol/rule_priority; otherwise what was applied is used)')
    .option('--json', 'print JSON for scripts')
    .action((opts: Partial<Opts>, cmd: Command) =>
      guarded(opts.json, async () => {
        const target = targetOf(cmd);
        const own = opts.config ? ownershipOf(checkConfig(readConfigFile(opts.config), opts.config).config) : undefined;
        const result = await downCommand(target, own);
        if (opts.json) printJson({ ok: true, changed: result.changed, plan: result.plan });
        else process.stdout.write(result.changed ? `${describePlan(result.plan)}\n\nRemoved.\n` : 'Nothing to remove.\n');
        return EXIT.ok;
      }),
    );
}
