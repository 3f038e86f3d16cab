// Changes to the kernel, batched: one `ip -batch` per family, one `nft -f`
// transaction for the whole table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NFT_FAMILY, NFT_TABLE } from '../ids.js';
import { InternalError } from '../errors/index.js';
import type { Family } from '../net/ip.js';
import { routeArgs, ruleArgs } from '../state/format.js';
import type { IpOp } from '../state/steps.js';
import { CommandError, nsArgv, run, runOk, type ExecOptions } from './exec.js';

/** A batch line is words joined by spaces; words come from validated config, but make sure. */
function batchLine(words: string[]): string {
  for (const w of words) if (w === '' || /[\s"'\\#]/.test(w)) throw new InternalError(`refusing to write an ip batch word ${JSON.stringify(w)}`);
  return words.join(' ');
}

/** A failed `ip -batch`, with the op it stopped at (ip reports "Command failed -:N"). */
export class IpBatchError extends CommandError {
  constructor(
    argv: string[],
    code: number,
    stderr: string,
    /** the op that failed, when ip said which */
    readonly op: IpOp | undefined,
  ) {
    super(argv, code, stderr);
  }
}

const opWords = (o: IpOp): string[] => ('route' in o ? ['route', o.op, ...routeArgs(o.route, o.op === 'del')] : ['rule', o.op, ...ruleArgs(o.rule)]);

/** Runs `ip -batch -`; stops at the first failing line (no -force), which the caller then reverts. */
export async function ipBatch(family: Family, ops: IpOp[], opts: ExecOptions = {}): Promise<void> {
  const argv = ['ip', `-${family}`, '-batch', '-'];
  const r = await run(argv, { ...opts, input: ops.map((o) => batchLine(opWords(o))).join('\n') + '\n' });
  if (r.code === 0) return;
  const m = /Command failed -:(\d+)/.exec(r.stderr);
  throw new IpBatchError(nsArgv(argv, opts.netns), r.code, r.stderr.trim(), m ? ops[Number(m[1]) - 1] : undefined);
}

/**
 * Create or replace the whole table in one transaction. The sticky memory (dynamic `sticky_*` sets)
 * of the table being replaced is carried into the new one when the new one has a set of that
 * name, each entry with the time it had left: a failover or reload must not make every client
 * forget its uplink.
 */
export async function nftLoad(script: string, opts: ExecOptions = {}): Promise<void> {
  const prelude = `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
  const carry = /\bset sticky_/.test(script) ? await stickyElements(script, opts) : '';
  await runOk(['nft', '-f', '-'], { ...opts, input: prelude + script + carry });
}

/** `add element` lines for the live table's sticky entries whose sets the new script declares too. */
async function stickyElements(script: string, opts: ExecOptions): Promise<string> {
  const r = await run(['nft', '-j', 'list', 'table', NFT_FAMILY, NFT_TABLE], opts);
  if (r.code !== 0) return '';
  const lines: string[] = [];
  for (const it of (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables) {
    const set = it.set as { name?: unknown; elem?: unknown; timeout?: unknown } | undefined;
    if (!set || typeof set.name !== 'string' || !/^sticky_[A-Za-z0-9_-]+$/.test(set.name) || !Array.isArray(set.elem)) continue;
    if (!new RegExp(`\\bset ${set.name} \\{`).test(script)) continue;
    const elems: string[] = [];
    for (const e of set.elem as unknown[]) {
      const el = (e as { elem?: { val?: unknown; expires?: unknown } }).elem;
      const val = el?.val;
      const parts =
        typeof val === 'string' ? [val] : Array.isArray((val as { concat?: unknown } | undefined)?.concat) ? (val as { concat: unknown[] }).concat : [];
      // only addresses go back in (nft prints them canonically); anything else is left to expire
      if (parts.length === 0 || !parts.every((x) => typeof x === 'string' && /^[0-9a-fA-F:.]+$/.test(x))) continue;
      const expires = typeof el?.expires === 'number' && el.expires > 0 ? el.expires : null;
      if (expires === null) continue;
      const timeout = typeof set.timeout === 'number' && set.timeout >= expires ? ` timeout ${set.timeout}s` : '';
      elems.push(`${(parts as string[]).join(' . ')}${timeout} expires ${expires}s`);
    }
    if (elems.length) lines.push(`add element ${NFT_FAMILY} ${NFT_TABLE} ${set.name} { ${elems.join(', ')} }`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * Put back a table saved with `nft -j list table` (replacing whatever is there), in one transaction.
 * Only objects of multihome's own table are taken from the saved JSON (it may come from the state
 * dir): nothing in it can touch another table.
 */
export async function nftRestoreJson(json: string, opts: ExecOptions = {}): Promise<void> {
  const saved = JSON.parse(json) as { nftables?: unknown };
  if (!Array.isArray(saved.nftables)) throw new InternalError('a saved nft table without "nftables"');
  const table = { family: NFT_FAMILY, name: NFT_TABLE };
  const ours = (o: Record<string, unknown>): boolean =>
    Object.values(o).every((v) => {
      const x = v as Record<string, unknown> | null;
      return x !== null && typeof x === 'object' && x.family === NFT_FAMILY && (x.table ?? x.name) === NFT_TABLE;
    });
  const objects = (saved.nftables as Record<string, unknown>[])
    .filter((o) => o && typeof o === 'object' && !('metainfo' in o))
    .filter(ours)
    .map((o) => ({ add: stripHandles(o) }));
  const input = { nftables: [{ add: { table } }, { delete: { table } }, ...objects] };
  // `nft -j -f -` cannot read a pipe (it opens /dev/stdin, which fails for a socket pair), so a file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'multihome-nft-'));
  const file = path.join(dir, 'restore.json');
  try {
    fs.writeFileSync(file, JSON.stringify(input), { mode: 0o600 });
    await runOk(['nft', '-j', '-f', file], opts);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function stripHandles(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const { handle: _h, ...rest } = v as Record<string, unknown>;
    out[k] = rest;
  }
  return out;
}

export async function nftDelete(opts: ExecOptions = {}): Promise<void> {
  await runOk(['nft', 'delete', 'table', NFT_FAMILY, NFT_TABLE], opts);
}

/** Write sysctls in order, a few hundred per `sysctl -w` (a process per key costs 250 uplinks seconds). */
export async function sysctlWrite(settings: { key: string; value: string }[], opts: ExecOptions = {}): Promise<void> {
  for (const { key, value } of settings) {
    if (!/^[A-Za-z0-9_./-]+$/.test(key) || !/^[0-9A-Za-z_ .-]*$/.test(value)) throw new InternalError(`refusing sysctl ${key}=${value}`);
  }
  for (let i = 0; i < settings.length; i += 500) {
    await runOk(['sysctl', '-q', '-w', ...settings.slice(i, i + 500).map((s) => `${s.key}=${s.value}`)], opts);
  }
}
