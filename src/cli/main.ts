#!/usr/bin/env node
// The command line: parse arguments, call the modules, print. Thin on purpose.
import { Command, Option } from 'commander';
import { EXIT } from '../errors/index.js';
import { registerConfigCommands } from './commands/config-commands.js';
import { registerConfirm } from './commands/confirm.js';
import { registerExplain } from './commands/explain.js';
import { registerLab } from './commands/lab.js';
import { registerRoutes } from './commands/routes.js';
import { registerFailback, registerRun } from './commands/run.js';

const program = new Command();
program
  .name('multihome')
  .description('Policy routing for Linux routers and hosts with several internet uplinks.')
  .version('0.1.0')
  .addOption(new Option('--netns <name>', 'act on this named network namespace instead of the current one'))
  .addOption(new Option('--state-dir <dir>', 'where multihome keeps what it applied (default /run/multihome[/netns/NAME])').env('MULTIHOME_STATE_DIR'))
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Exit codes:
  0  success
  1  the config, the arguments, or the system do not fit (nothing was changed)
  2  applying failed and the previous state was restored
  3  internal error (a bug, or an unexpected answer from the kernel)
  4  applying failed and restoring the previous state failed too: check the host

Default config: /etc/multihome/multihome.yaml. Docs: docs/config.md, docs/operations.md.`,
  );

registerConfigCommands(program);
registerConfirm(program);
registerExplain(program);
registerRun(program);
registerFailback(program);
registerRoutes(program);
registerLab(program);

program.exitOverride((err) => {
  // commander's own errors (unknown option, missing argument) are user errors
  process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.user);
});

await program.parseAsync(process.argv);
