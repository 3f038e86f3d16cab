// `multihome lab up|down|demo [TOPOLOGY]`: test topologies in network namespaces.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { describePlan } from '../../apply/render.js';
import { applyPrepared, prepare } from '../../apply/session.js';
import { realTarget } from '../../apply/transaction.js';
import { EXIT, UserError } from '../../errors/index.js';
import {
  getTopology,
  installUplinkCounter,
  labDown,
  labDownAll,
  labUp,
  listInstances,
  listInstancesChecked,
  nsOf,
  runDemo,
  startEchoServer,
} from '../../lab/index.js';
import { packageRoot, readConfigFile, requireRoot } from '../context.js';
import { printJson } from '../output.js';
import { guarded } from './config-commands.js';

interface LabOpts {
  config?: string;
  json?: boolean;
  id?: string;
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description("build test topologies in network namespaces (never touches this host's own network)");
  registerUp(lab);
  registerDown(lab);
  registerList(lab);
  registerDemo(lab);
}

function registerUp(lab: Command): void {
  lab
    .command('up')
    .argument('[topology]', 'topology name', 'seed')
    .option('--id <id>', 'instance id (default: random)')
    .option('--json', 'print JSON for scripts')
    .description('build a topology and start its servers; it stays until `lab down`')
    .action((name: string, opts: LabOpts) => guarded(opts.json, () => labUpCommand(name, opts)));
}

async function labUpCommand(name: string, opts: LabOpts): Promise<number> {
  const t = getTopology(name);
  requireRoot('multihome lab up');
  const inst = await labUp(t, opts.id ? { id: opts.id } : {});
  try {
    await startEchoServer(inst, t.internet.role);
    await installUplinkCounter(nsOf(inst, t.internet.role), Object.values(t.internet.arrival));
  } catch (e) {
    await labDown(inst);
    throw e;
  }
  if (opts.json) printJson({ ok: true, id: inst.id, namespaces: inst.namespaces });
  else {
    process.stdout.write(`lab ${inst.id} (${name}) is up:\n`);
    for (const [role, ns] of Object.entries(inst.namespaces)) process.stdout.write(`  ${role.padEnd(8)} ${ns}\n`);
    process.stdout.write(`Try: multihome --netns ${nsOf(inst, t.routerRole)} plan -c examples/${name}.yaml\nRemove with: multihome lab down ${inst.id}\n`);
  }
  return EXIT.ok;
}

function registerDown(lab: Command): void {
  lab
    .command('down')
    .argument('[id]', 'instance id (default: every lab instance)')
    .option('--json', 'print JSON for scripts')
    .description('remove a lab instance (or all of them) with everything in it')
    .action((id: string | undefined, opts: LabOpts) =>
      guarded(opts.json, async () => {
        requireRoot('multihome lab down');
        if (id && !(await listInstances()).some((i) => i.id === id)) throw new UserError(`no lab instance ${id}`, [], 'see `multihome lab list`');
        const removed = id ? (await labDown(id)).length : (await labDownAll()).length;
        if (opts.json) printJson({ ok: true, removed });
        else process.stdout.write(id ? `lab ${id}: removed ${removed} namespaces\n` : `removed ${removed} lab instance(s)\n`);
        return EXIT.ok;
      }),
    );
}

function registerList(lab: Command): void {
  lab
    .command('list')
    .option('--json', 'print JSON for scripts')
    .description('list running lab instances')
    .action((opts: LabOpts) =>
      guarded(opts.json, async () => {
        const list = await listInstancesChecked();
        if (opts.json) printJson({ ok: true, instances: list });
        else if (list.length === 0) process.stdout.write('no lab instances\n');
        else
          for (const i of list)
            process.stdout.write(
              `${i.id}  ${i.topology}  ${Object.values(i.namespaces).join(' ')}${i.gone ? `  (gone: none of its namespaces exists; \`multihome lab down ${i.id}\` forgets it)` : ''}\n`,
            );
        return EXIT.ok;
      }),
    );
}

function registerDemo(lab: Command): void {
  lab
    .command('demo')
    .argument('[topology]', 'topology name', 'seed')
    .option('-c, --config <file>', 'config to apply in the router (default: examples/TOPOLOGY.yaml)')
    .option('--json', 'print JSON for scripts')
    .description('build the lab, apply the config in its router, send real flows, check where they arrive, tear down')
    .action((name: string, opts: LabOpts) => guarded(opts.json, () => labDemoCommand(name, opts)));
}

async function labDemoCommand(name: string, opts: LabOpts): Promise<number> {
  const topology = getTopology(name);
  requireRoot('multihome lab demo');
  const file = opts.config ?? path.join(packageRoot(), 'examples', `${name}.yaml`);
  const text = readConfigFile(file);
  const log = (line: string) => {
    if (!opts.json) process.stdout.write(line + '\n');
  };
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'multihome-demo-'));
  try {
    const result = await runDemo({
      topology,
      log,
      applyInRouter: async (ns) => {
        const target = realTarget({ netns: ns }, stateDir);
        const prep = await prepare(text, file, target);
        const applied = await applyPrepared(prep, target);
        log(`multihome apply -c ${path.relative(process.cwd(), file) || file} (in ${ns}):`);
        log(describePlan(applied.plan).split('\n')[0]! + ' Applied and verified.');
        const again = await applyPrepared(prep, target);
        log(`second apply: ${again.changed ? 'CHANGED SOMETHING (not idempotent)' : 'No changes.'}`);
        if (again.changed) throw new Error('the second apply was not a no-op');
      },
    });
    if (opts.json) printJson({ ok: result.ok, id: result.id, flows: result.rows });
    return result.ok ? EXIT.ok : EXIT.applyFailed;
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
