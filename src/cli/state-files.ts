// A saved state on disk: `state save` writes state.json; `--state DIR` reads it
// back, or imports the raw dumps an admin put in the folder (ip rule/route
// show, ip -json, iptables-save, nft -j list ruleset, sysctl -a).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/index.js';
import { importDump } from '../state/import/index.js';
import { parseSavedState } from '../state/schema.js';
import type { State } from '../state/types.js';

const STATE_FILE = 'state.json';

export function saveStateDir(dir: string, s: State): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, STATE_FILE);
  fs.writeFileSync(file, JSON.stringify(s, null, 1) + '\n');
  return file;
}

export function loadStateDir(dir: string): State {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir).sort();
  } catch {
    throw new UserError(`cannot read the state folder ${dir}`, [], 'give a folder written by `multihome state save`, or one holding ip/iptables/nft dumps');
  }
  if (entries.includes(STATE_FILE)) {
    const file = path.join(dir, STATE_FILE);
    return parseSavedState(fs.readFileSync(file, 'utf8'), file);
  }
  const files = entries
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((name) => ({ name: path.join(dir, name), text: fs.readFileSync(path.join(dir, name), 'utf8') }));
  if (files.length === 0) throw new UserError(`${dir} holds no dumps`, [], 'save one with `multihome state save DIR`');
  return importDump(files); // an ImportError is a UserError naming the file, line and text
}
