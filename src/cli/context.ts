// Where a command acts: which namespace, which state directory, which config.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { realTarget, type Target } from '../apply/transaction.js';
import { UserError } from '../errors/index.js';
import { currentNetnsName } from '../kernel/identity.js';

export const DEFAULT_CONFIG = '/etc/multihome/multihome.yaml';

interface GlobalOptions {
  netns?: string;
  stateDir?: string;
}

export function targetOf(cmd: Command): Target {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.netns !== undefined) checkNetns(g.netns);
  const ns = g.netns ?? currentNetnsName();
  const dir = g.stateDir ?? (ns ? path.join('/run/multihome/netns', ns) : '/run/multihome');
  return realTarget(g.netns ? { netns: g.netns } : {}, dir);
}

export function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(
        `config file ${file} does not exist`,
        [],
        file === DEFAULT_CONFIG ? 'write one (see docs/config.md), or pass -c FILE' : 'check the path given with -c',
      );
    if (code === 'EACCES') throw new UserError(`config file ${file} cannot be read (permission denied)`);
    if (code === 'EISDIR') throw new UserError(`${file} is a directory, not a config file`);
    throw e;
  }
}

/** The installed package's root (…/dist/src/cli/context.js → …), for its examples/. */
export const packageRoot = (): string => path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** `--netns NAME` must name a namespace that exists (`ip netns add` makes /run/netns/NAME). */
function checkNetns(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new UserError(
      `--netns ${JSON.stringify(name)}: not a network namespace name`,
      [],
      'names are letters, digits, ".", "_" and "-"; `ip netns list` shows them',
    );
  if (!fs.existsSync(path.join('/run/netns', name))) {
    throw new UserError(`network namespace ${name} does not exist`, [], '`ip netns list` shows the named namespaces');
  }
}

/** Commands that create namespaces or change the kernel refuse early, with a hint, when not run as root. */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new UserError(`${what} needs root (it creates network namespaces and changes their routing)`, [], 'run it as root, e.g. with sudo');
}
