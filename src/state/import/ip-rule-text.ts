// The text of `ip rule show` / `ip -6 rule show` (with or without -d, -N) →
// RuleState[]. Each line becomes the object `ip -json rule show` would have
// printed, then from-ip-json.ts normalises it, so text and JSON dumps of one
// router import equal. Checked against iproute2 6.1's print_rule output.
import type { Family } from '../../net/ip.js';
import type { RuleState } from '../types.js';
import { linesOf, type Line } from './common.js';
import { ImportError, lineOf, sourceOf, type Place } from './errors.js';
import { FieldError, Words, ruleFamilies, toRule, type J, type TableNames } from './ip-common.js';

export interface IpTextOptions extends Place {
  /** the dump's family when known (`ip -6 rule`); otherwise read from addresses */
  family?: Family;
  /** the family to assume for a rule dump that shows none (a file named "ip-6-rule.txt") */
  familyHint?: Family;
  /** custom table names (/etc/iproute2/rt_tables) */
  tableNames?: TableNames;
}

/** Rule actions by name, and by the number `ip -N` prints instead. */
const ACTIONS: Record<string, string> = {
  unreachable: 'unreachable',
  prohibit: 'prohibit',
  blackhole: 'blackhole',
  '6': 'blackhole',
  '7': 'unreachable',
  '8': 'prohibit',
};

/** "80" → {x: 80}; "80-90" → {x_start: 80, x_end: 90}, as ip -json prints ports. */
function range(o: J, key: string, v: string): void {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) throw new FieldError(`cannot read ${key} "${v}"`);
  if (m[2] === undefined) o[key] = Number(m[1]);
  else {
    o[`${key}_start`] = Number(m[1]);
    o[`${key}_end`] = Number(m[2]);
  }
}

/** "10.0.0.0/8" → src "10.0.0.0", srclen 8; "all" → src "all". */
function prefix(o: J, key: 'src' | 'dst', v: string): void {
  const slash = v.indexOf('/');
  if (slash < 0) o[key] = v;
  else {
    o[key] = v.slice(0, slash);
    o[`${key}len`] = Number(v.slice(slash + 1));
  }
}

/** One rule line, after "PREF:", as the ip -json object. */
function ruleLineObject(pref: number, words: string[]): J {
  const o: J = { priority: pref };
  const c = new Words(words);
  for (; c.at < words.length; c.at++) {
    const w = words[c.at]!;
    switch (w) {
      case 'not':
        o.not = null;
        break;
      case 'from':
        prefix(o, 'src', c.value(w));
        break;
      case 'to':
        prefix(o, 'dst', c.value(w));
        break;
      case 'tos':
      case 'dsfield':
        o.tos = c.value(w);
        break;
      case 'fwmark': {
        const [mark, mask] = c.value(w).split('/');
        o.fwmark = mark;
        if (mask !== undefined) o.fwmask = mask;
        break;
      }
      case 'iif':
      case 'oif':
        o[w] = c.value(w);
        if (words[c.at + 1] === '[detached]') {
          o[`${w}_detached`] = null;
          c.at++;
        }
        break;
      case 'uidrange': {
        const m = /^(\d+)-(\d+)$/.exec(c.value(w));
        if (!m) throw new FieldError(`cannot read uidrange "${words[c.at]}"`);
        o.uid_start = Number(m[1]);
        o.uid_end = Number(m[2]);
        break;
      }
      case 'ipproto':
        o.ipproto = c.value(w);
        break;
      case 'sport':
      case 'dport':
        range(o, w, c.value(w));
        break;
      case 'lookup':
      case 'table': {
        const t = c.value(w);
        if (t === '[l3mdev-table]') o.l3mdev = null;
        else o.table = t;
        break;
      }
      case 'suppress_prefixlength':
        o.suppress_prefixlen = Number(c.value(w));
        break;
      case 'suppress_ifgroup':
        o.suppress_ifgroup = c.value(w);
        break;
      case 'goto': {
        const t = c.value(w);
        if (!/^\d+$/.test(t)) throw new FieldError(`cannot read goto target "${t}"`);
        o.goto = Number(t);
        if (words[c.at + 1] === '[unresolved]') {
          o.unresolved = null;
          c.at++;
        }
        break;
      }
      case 'nop':
        o.nop = null;
        break;
      case 'proto':
      case 'protocol':
        o.protocol = c.value(w);
        break;
      case 'realms':
      case 'tun_id':
        // classification only (realms) or tunnel metadata: no effect on the route chosen
        c.value(w);
        break;
      default:
        if (Object.hasOwn(ACTIONS, w)) {
          o.action = ACTIONS[w];
          break;
        }
        throw new FieldError(`unknown word "${w}"`);
    }
  }
  return o;
}

const RULE_LINE = /^(\d+):\s*(.*?)\s*$/;

export const looksLikeRuleLine = (text: string): boolean => RULE_LINE.test(text) && /\bfrom\b|\bnot\b/.test(text);

export function parseIpRuleText(text: string, opts: IpTextOptions = {}): RuleState[] {
  const src = sourceOf(opts);
  const parsed: { line: Line; o: J }[] = [];
  for (const line of linesOf(text)) {
    const t = line.text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const fail = (reason: string) => new ImportError(src, lineOf(opts, line.index), line.text, reason);
    const m = RULE_LINE.exec(t);
    if (!m) throw fail('not an `ip rule show` line (expected "PREF:  from …")');
    try {
      parsed.push({ line, o: ruleLineObject(Number(m[1]), m[2]!.split(/\s+/).filter(Boolean)) });
    } catch (e) {
      if (e instanceof FieldError) throw fail(e.message);
      throw e;
    }
  }
  const fams = ruleFamilies(
    parsed.map((p) => p.o),
    opts.family,
    opts.familyHint,
  );
  return parsed.map((p, i) => {
    try {
      return toRule(p.o, fams[i]!, opts.tableNames);
    } catch (e) {
      if (e instanceof FieldError) throw new ImportError(src, lineOf(opts, p.line.index), p.line.text, e.message);
      throw e;
    }
  });
}
