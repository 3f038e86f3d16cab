// What a pasted file is. A file may hold one dump, or several commands with
// their prompts and outputs ("root@r:~# ip rule show", then its lines); each
// command's output is read as what the command prints (its -4/-6, -j and
// `table N` included), anything else by its content.
import type { Family } from '../../net/ip.js';
import { TABLE_IDS } from '../types.js';
import { linesOf } from './common.js';
import { ImportError } from './errors.js';
import { ipJsonKind } from './ip-json.js';
import { looksLikeRouteLine } from './ip-route-text.js';
import { looksLikeRuleLine } from './ip-rule-text.js';
import { looksLikeIptablesSave } from './iptables-save.js';
import { scanJson } from './json-stream.js';
import { nftItems } from './nft-json.js';
import { looksLikeRtTables } from './rt-tables.js';
import { looksLikeSysctl } from './sysctl-text.js';

export type DumpKind = 'ip-rule' | 'ip-route' | 'ip-json' | 'iptables-save' | 'nft-json' | 'sysctl' | 'rt-tables';

export interface Chunk {
  kind: DumpKind;
  text: string;
  /** line number of the chunk's first line in its file */
  firstLine: number;
  /** what the prompt said, when there was one */
  family?: Family;
  /** `ip route show table N`: the table of routes that print none */
  table?: number;
  command?: string;
}

/** The kind of a dump by its content alone; null when it is none of them. */
export function detectKind(text: string): DumpKind | null {
  const t = text.trim();
  if (t === '') return null;
  // JSON by its first key; the parser itself reports any error inside, by line
  if (/^\{\s*"nftables"\s*:/.test(t)) return 'nft-json';
  if (/^\[\s*(\]|\{)/.test(t)) {
    const first = /^\[\s*(\{[^{}]*)/.exec(t)?.[1] ?? '';
    // `ip -j rule/route/addr/link` elements start with one of these keys
    return first === '' || /^\{\s*"(priority|dst|type|ifindex|ifname)"/.test(first) ? 'ip-json' : null;
  }
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      const items = scanJson(t);
      if (items.some((i) => nftItems(i.value))) return 'nft-json';
      if (items.every((i) => ipJsonKind(i.value) !== null)) return 'ip-json';
    } catch {
      // not JSON after all
    }
    return null;
  }
  if (looksLikeIptablesSave(t)) return 'iptables-save';
  const first = linesOf(t)
    .map((l) => l.text.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (first === undefined) return null;
  if (looksLikeRuleLine(first)) return 'ip-rule';
  if (looksLikeSysctl(t)) return 'sysctl';
  if (looksLikeRtTables(t)) return 'rt-tables';
  if (looksLikeRouteLine(first)) return 'ip-route';
  return null;
}

const COMMANDS = /^(sudo\s+)?(ip|ip6?tables(-legacy|-nft)?(-save)?|nft|sysctl|cat|grep)(\s|$)/;
const PROMPT = /^\s*(?:\[[^\]]*\]|[\w.@:~/-]*)[#$]\s*(.*)$/;

/** The command of a prompt line ("root@r:~# ip rule show" → "ip rule show"); null when the line is no prompt. */
export function promptCommand(line: string): string | null {
  const m = PROMPT.exec(line);
  if (!m) return null;
  const cmd = m[1]!.trim();
  return COMMANDS.test(cmd) ? cmd.replace(/^sudo\s+/, '') : null;
}

/** iproute2's object abbreviations: `ip r`, `ip ro` → route; `ip ru` → rule; `ip a` → address; `ip l` → link. */
function ipObject(word: string): 'route' | 'rule' | 'address' | 'link' | null {
  if (word === 'r' || ('route'.startsWith(word) && word.length >= 2)) return 'route';
  if ('rule'.startsWith(word) && word.length >= 2) return 'rule';
  if ('address'.startsWith(word) || word === 'addr') return 'address';
  if ('link'.startsWith(word)) return 'link';
  return null;
}

export interface CommandKind {
  kind: DumpKind;
  family?: Family;
  table?: number;
}

/** What a command prints, or a reason why its output cannot be imported. */
export function commandKind(command: string): CommandKind | { error: string } {
  const words = command.split('|')[0]!.trim().split(/\s+/);
  const prog = words[0]!;
  const cannot = { error: `cannot import the output of \`${command}\`` };
  if (prog === 'ip') {
    let json = false;
    let family: Family | undefined;
    let i = 1;
    for (; i < words.length && words[i]!.startsWith('-'); i++) {
      const o = words[i]!.replace(/^--?/, '');
      if (o === '4') family = 4;
      else if (o === '6') family = 6;
      else if (o !== '' && 'json'.startsWith(o)) json = true;
      else if (o === 'f' || (o.length >= 2 && 'family'.startsWith(o))) {
        const f = words[++i];
        if (f === 'inet') family = 4;
        if (f === 'inet6') family = 6;
      } else if (o === 'n' || (o.length >= 2 && 'netns'.startsWith(o)) || o === 'b' || 'batch'.startsWith(o) || (o.length >= 2 && 'rcvbuf'.startsWith(o))) i++;
    }
    const obj = ipObject(words[i] ?? '');
    if (!obj) return cannot;
    const rest = words.slice(i + 1);
    const t = rest.indexOf('table');
    let table: number | undefined;
    if (t >= 0 && rest[t + 1] && rest[t + 1] !== 'all') {
      const v = rest[t + 1]!;
      table = Object.hasOwn(TABLE_IDS, v) ? TABLE_IDS[v as keyof typeof TABLE_IDS] : /^\d+$/.test(v) ? Number(v) : undefined;
    }
    if (json) return { kind: 'ip-json', ...(family ? { family } : {}), ...(table !== undefined ? { table } : {}) };
    if (obj === 'rule') return { kind: 'ip-rule', ...(family ? { family } : {}) };
    if (obj === 'route') return { kind: 'ip-route', ...(family ? { family } : {}), ...(table !== undefined ? { table } : {}) };
    return { error: `the text of \`${command}\` is not imported: paste \`ip -j ${obj === 'address' ? 'addr' : 'link'} show\` instead` };
  }
  if (/^ip6?tables(-legacy|-nft)?-save$/.test(prog)) return { kind: 'iptables-save', family: prog.startsWith('ip6') ? 6 : 4 };
  if (/^ip6?tables/.test(prog)) return { error: `the output of \`${command}\` is not imported: paste \`${prog.replace(/(-legacy|-nft)$/, '')}-save\` instead` };
  if (prog === 'nft')
    return words.some((w) => w === '-j' || w === '--json' || /^-[a-zA-Z]*j/.test(w))
      ? { kind: 'nft-json' }
      : { error: `the text of \`${command}\` is not imported: paste \`nft -j list ruleset\` instead` };
  if (prog === 'sysctl') return { kind: 'sysctl' };
  if ((prog === 'cat' || prog === 'grep') && words.some((w) => w.startsWith('/proc/sys'))) return { kind: 'sysctl' };
  if (prog === 'cat' && words.some((w) => w.includes('rt_tables'))) return { kind: 'rt-tables' };
  return cannot;
}

/** A file → the dumps in it, each with its kind. */
export function splitDump(text: string, source: string): Chunk[] {
  const lines = linesOf(text);
  const out: Chunk[] = [];
  let start = 0;
  let cmd: { line: number; text: string; command: string } | null = null;
  const flush = (end: number) => {
    const body = lines.slice(start, end);
    const chunkText = body.map((l) => l.text).join('\n');
    if (chunkText.trim() === '') return;
    const firstLine = start + 1;
    if (cmd) {
      const k = commandKind(cmd.command);
      if ('error' in k) throw new ImportError(source, cmd.line, cmd.text, k.error);
      out.push({ ...k, text: chunkText, firstLine, command: cmd.command });
      return;
    }
    const kind = detectKind(chunkText);
    if (!kind) {
      const first = body.find((l) => l.text.trim() !== '' && !l.text.trim().startsWith('#')) ?? body[0]!;
      throw new ImportError(
        source,
        first.index + 1,
        first.text,
        'cannot tell what this is: expected `ip rule`/`ip route` text, `ip -j` JSON, iptables-save, `nft -j list ruleset`, sysctl or rt_tables',
      );
    }
    out.push({ kind, text: chunkText, firstLine });
  };
  lines.forEach((l, i) => {
    // "> …" right after a prompt continues its command (a shell's PS2)
    if (cmd && start === i && /^>\s/.test(l.text)) {
      start = i + 1;
      return;
    }
    const command = promptCommand(l.text);
    if (command === null) return;
    flush(i);
    cmd = { line: i + 1, text: l.text, command };
    start = i + 1;
  });
  flush(lines.length);
  return out;
}
