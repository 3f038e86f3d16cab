// Changes to the kernel, batched: one `ip -batch` per family, one `nft -f`
// transaction for the whole table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NFT_FAMILY, NFT_TABLE } from '../compile/nft.js';
import { InternalError } from '../errors/index.js';
import type { Family } from '../net/ip.js';
import { runOk, type ExecOptions } from './exec.js';

/** A batch line is words joined by spaces; words come from validated config, but make sure. */
function batchLine(words: string[]): string {
  for (const w of words) if (w === '' || /[\s"'\\#]/.test(w)) throw new InternalError(`refusing to write an ip batch word ${JSON.stringify(w)}`);
  return words.join(' ');
}

/** Runs `ip -N -batch -`; stops at the first failing line (no -force), which the caller then reverts. */
export async function ipBatch(family: Family, lines: string[][], opts: ExecOptions = {}): Promise<void> {
  await runOk(['ip', `-${family}`, '-batch', '-'], { ...opts, input: lines.map(batchLine).join('\n') + '\n' });
}

/** Create or replace the whole table in one transaction. */
export async function nftLoad(script: string, opts: ExecOptions = {}): Promise<void> {
  const prelude = `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;
  await runOk(['nft', '-f', '-'], { ...opts, input: prelude + script });
}

/** Put back a table saved with `nft -j list table` (replacing whatever is there), in one transaction. */
export async function nftRestoreJson(json: string, opts: ExecOptions = {}): Promise<void> {
  const saved = JSON.parse(json) as { nftables: Record<string, unknown>[] };
  const table = { family: NFT_FAMILY, name: NFT_TABLE };
  const objects = saved.nftables.filter((o) => !('metainfo' in o)).map((o) => ({ add: stripHandles(o) }));
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

export async function sysctlWrite(key: string, value: string, opts: ExecOptions = {}): Promise<void> {
  if (!/^[A-Za-z0-9_./-]+$/.test(key) || !/^[0-9A-Za-z_ .-]*$/.test(value)) throw new InternalError(`refusing sysctl ${key}=${value}`);
  await runOk(['sysctl', '-q', '-w', `${key}=${value}`], opts);
}
