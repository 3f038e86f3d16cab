// Everything the simulator needs from a live kernel: rules, routes, links,
// the routing sysctls, and netfilter's part (nft -j list ruleset, plus
// iptables-save / ip6tables-save where iptables is installed, whose view of
// iptables-nft chains is the complete one).
import { isOwnChain } from '../ids.js';
import { importDump } from '../state/import/index.js';
import type { Program } from '../state/program.js';
import type { State } from '../state/types.js';
import { CommandError, run, type ExecOptions } from './exec.js';
import { readLinks, readRoutes, readRoutingSysctls, readRules } from './read.js';

/**
 * Output of a command that may be missing on this system ("" then). A refusal for
 * lack of privilege is an error, not "nothing there": explaining without the
 * netfilter rules would give a confidently wrong answer.
 */
async function optional(argv: string[], opts: ExecOptions): Promise<string> {
  let r;
  try {
    r = await run(argv, opts);
  } catch {
    return ''; // not installed
  }
  if (r.code !== 0 && /Operation not permitted|Permission denied/i.test(r.stderr)) throw new CommandError(argv, r.code, r.stderr.trim());
  return r.code === 0 ? r.stdout : '';
}

/** Every netfilter rule of this namespace (nft ruleset; iptables-save and ip6tables-save where installed) as one program. */
async function readProgram(opts: ExecOptions): Promise<Program | undefined> {
  const [nft, ipt4, ipt6] = await Promise.all([
    optional(['nft', '-j', 'list', 'ruleset'], opts),
    optional(['iptables-save'], opts),
    optional(['ip6tables-save'], opts),
  ]);
  const dumps = [
    { name: 'nft -j list ruleset', text: nft },
    { name: 'iptables-save', text: ipt4 },
    { name: 'ip6tables-save', text: ipt6 },
  ].filter((d) => d.text.trim() !== '');
  return dumps.length ? importDump(dumps).program : undefined;
}

/** The other tools' netfilter rules (all but multihome's table), for the warning about foreign marks inside mark_mask. */
export async function readForeignProgram(opts: ExecOptions = {}): Promise<Program> {
  const program = await readProgram(opts);
  return { chains: (program?.chains ?? []).filter((c) => !isOwnChain(c.name)) };
}

/**
 * What no dump shows but `ip route get` reveals: until an IPv4 rule has ever been added or deleted
 * in the namespace (fib_has_custom_rules, never cleared), tables local and main are one trie and
 * a local address is answered from table main. Unknown (left out) when the question fails.
 */
async function readHidden(opts: ExecOptions): Promise<State['hidden']> {
  const r = await run(['ip', '-N', '-j', '-d', 'route', 'get', '127.0.0.1'], opts); // -d: the table even when it is main
  if (r.code !== 0) return undefined;
  try {
    const table = (JSON.parse(r.stdout) as { table?: string | number }[])[0]?.table;
    return table === undefined ? undefined : { customRules4: Number(table) !== 254 };
  } catch {
    return undefined;
  }
}

export async function readFullState(opts: ExecOptions = {}): Promise<State> {
  const [rules, routes, links, sysctls, program, hidden] = await Promise.all([
    readRules(opts),
    readRoutes(opts),
    readLinks(opts),
    readRoutingSysctls(opts),
    readProgram(opts),
    readHidden(opts),
  ]);
  return { rules, routes, links, nft: null, sysctls, ...(program ? { program } : {}), ...(hidden ? { hidden } : {}) };
}
