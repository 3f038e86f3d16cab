// `multihome confirm` keeps a change applied with --confirm; `_confirm-timer`
// is the hidden process that reverts it otherwise.
import { Command } from 'commander';
import { confirm, runRevertTimer } from '../../apply/confirm.js';
import { EXIT } from '../../errors/index.js';
import { targetOf } from '../context.js';
import { printJson } from '../output.js';
import { guarded } from './config-commands.js';

export function registerConfirm(program: Command): void {
  program
    .command('confirm')
    .description('keep the change made by `apply --confirm`')
    .option('--json', 'print JSON for scripts')
    .action((opts: { json?: boolean }, cmd: Command) =>
      guarded(opts.json, () => {
        const kept = confirm(targetOf(cmd));
        if (opts.json) printJson({ ok: true, confirmed: kept });
        else process.stdout.write(kept ? 'Confirmed: the change stays.\n' : 'Nothing is waiting for confirmation.\n');
        return kept ? EXIT.ok : EXIT.user;
      }),
    );
  program.addCommand(
    new Command('_confirm-timer').action((_o: unknown, cmd: Command) =>
      guarded(false, async () => {
        await runRevertTimer(targetOf(cmd));
        return EXIT.ok;
      }),
    ),
    { hidden: true },
  );
}
