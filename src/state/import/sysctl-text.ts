// `sysctl -a` / `sysctl KEY…` output ("net.ipv4.ip_forward = 1"), or
// `grep . /proc/sys/net/ipv4/conf/*/rp_filter` output, → sysctls keyed in
// slash form as State keeps them ("net/ipv4/conf/eth0.100/rp_filter").
import { linesOf } from './common.js';
import { ImportError, lineOf, sourceOf, type Place } from './errors.js';

const KV = /^([A-Za-z0-9_][\w./:@+-]*)\s*=\s?(.*)$/;
const PROC = /^\/proc\/sys\/(\S+?):(.*)$/;

/** sysctl prints "." between levels and "/" for a "." inside a name (eth0.100 → eth0/100): swap them back. */
function slashKey(key: string): string {
  const firstDot = key.indexOf('.');
  const firstSlash = key.indexOf('/');
  if (firstDot < 0 || (firstSlash >= 0 && firstSlash < firstDot)) return key; // already slash form
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

const meaningful = (t: string) => t !== '' && !t.startsWith('#') && !t.startsWith(';') && !t.startsWith('sysctl: ');

export const looksLikeSysctl = (text: string): boolean => {
  const ls = linesOf(text)
    .map((l) => l.text.trim())
    .filter(meaningful)
    .slice(0, 100);
  return ls.length > 0 && ls.every((t) => KV.test(t) || PROC.test(t));
};

export function parseSysctlText(text: string, opts: Place = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of linesOf(text)) {
    const t = line.text.trim();
    if (!meaningful(t)) continue;
    const m = PROC.exec(t) ?? KV.exec(t);
    if (!m) throw new ImportError(sourceOf(opts), lineOf(opts, line.index), line.text, 'not a sysctl line (expected "key = value")');
    out[slashKey(m[1]!)] = m[2]!.trim();
  }
  return out;
}
