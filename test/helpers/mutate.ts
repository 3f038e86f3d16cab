// Seeded mutations for the fuzz tests: text (bytes, lines, scalar values),
// and JSON values (types swapped, keys dropped or added, numbers pushed to
// their edges). Reproducible from the seed.
import { prngUnit } from '../../src/util/prng.js';

export type Rng = () => number;
export const rng = (seed: number): Rng => prngUnit(seed);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, n: number) => Math.floor(r() * n);

/** Values that break things: wrong types, edges, YAML specials, huge and odd strings. */
export const NASTY: readonly string[] = [
  '-1',
  '0',
  '0x0',
  '0xffffffffff',
  '4294967296',
  '1e309',
  '-0',
  '0.5',
  '1e-10',
  '99999999999999999999',
  'NaN',
  '.inf',
  'null',
  '~',
  'true',
  'no',
  '[]',
  '{}',
  '""',
  "''",
  '"a"',
  '[1, 2, 3]',
  '{ a: 1 }',
  '*nope',
  '&anchor x',
  '!!binary aGk=',
  '!!str 1',
  'eth0',
  'lo',
  'x'.repeat(300),
  '::',
  '0.0.0.0',
  '255.255.255.255',
  '1.2.3.4/33',
  'ffff::/129',
  '10.0.0.1/8',
  'fe80::1%eth0',
  '200ms',
  '0s',
  '-5s',
  '1.5',
  '10000000s',
  'icmp',
  'tcp',
  'up',
  'down',
  'copy',
  'follow',
  'masquerade',
  'false',
  '"\\u0000"',
  '"\\t"',
  'ü',
  '${HOME}',
  '$(reboot)',
  '`id`',
  '; rm -rf /',
  '../../etc/passwd',
  '/tmp/x',
  '#',
  '- a',
  '? x',
  '|',
  '>',
];

/** One random change to a text: a character, a span, a line, or a scalar value. */
export function mutateText(r: Rng, text: string): string {
  const lines = text.split('\n');
  switch (int(r, 9)) {
    case 0: {
      const i = int(r, text.length + 1);
      return text.slice(0, i) + String.fromCharCode(int(r, 128)) + text.slice(i + 1);
    }
    case 1: {
      const i = int(r, text.length + 1);
      return text.slice(0, i) + text.slice(i + 1 + int(r, 20));
    }
    case 2: {
      const i = int(r, text.length + 1);
      const j = Math.min(text.length, i + int(r, 40));
      return text.slice(0, j) + text.slice(i, j) + text.slice(j);
    }
    case 3:
      lines.splice(int(r, lines.length), 1);
      return lines.join('\n');
    case 4: {
      const i = int(r, lines.length);
      lines.splice(i, 0, lines[int(r, lines.length)]!);
      return lines.join('\n');
    }
    case 5: {
      const i = int(r, lines.length);
      lines[i] = ' '.repeat(int(r, 6)) + lines[i]!.trimStart();
      return lines.join('\n');
    }
    case 6: {
      // a scalar after "key: " or in a flow mapping/list replaced by something nasty
      const spots = [...text.matchAll(/(:\s+|\[\s*|,\s*)([^\s,\]}{[]+)/g)];
      if (spots.length === 0) return text + pick(r, NASTY);
      const m = pick(r, spots);
      const at = m.index + m[1]!.length;
      return text.slice(0, at) + pick(r, NASTY) + text.slice(at + m[2]!.length);
    }
    case 7: {
      const i = int(r, lines.length);
      lines.splice(
        i,
        0,
        `${' '.repeat(int(r, 4) * 2)}${pick(r, ['providers', 'policies', 'groups', 'health', 'match', 'via', 'default', 'mark_mask', 'rule_priority', 'copy', 'hooks', 'x'])}: ${pick(r, NASTY)}`,
      );
      return lines.join('\n');
    }
    default: {
      const a = int(r, lines.length);
      const b = int(r, lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
  }
}

const NASTY_JSON: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 31),
  0xffffffff + 1,
  '',
  'x',
  'default',
  '::',
  '10.0.0.0/33',
  '1.2.3.4',
  [],
  {},
  [1],
  { a: 1 },
  'ü'.repeat(100),
];

/** One random change somewhere in a JSON value (returns a new value). */
export function mutateJson(r: Rng, v: unknown, depth = 0): unknown {
  if (depth > 0 && r() < 0.15) return pick(r, NASTY_JSON);
  if (Array.isArray(v)) {
    const arr = v as unknown[];
    if (arr.length === 0 || r() < 0.1) return [...arr, pick(r, NASTY_JSON)];
    const out = [...arr];
    const i = int(r, out.length);
    if (r() < 0.1) out.splice(i, 1);
    else if (r() < 0.05)
      out.push(...out.slice(0, 50)); // duplicates
    else out[i] = mutateJson(r, out[i], depth + 1);
    return out;
  }
  if (v && typeof v === 'object') {
    const o = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(o);
    if (keys.length === 0 || r() < 0.08) {
      o[pick(r, ['x', 'rules', 'table', 'family', 'pref', 'chains', 'jump', '__proto__', 'constructor'])] = pick(r, NASTY_JSON);
      return o;
    }
    const k = pick(r, keys);
    if (r() < 0.1) delete o[k];
    else o[k] = mutateJson(r, o[k], depth + 1);
    return o;
  }
  return pick(r, NASTY_JSON);
}
