// YAML text → Config, collecting every error with file:line:col. Pure: the
// caller reads the file.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type * as z from 'zod';
import type { SourceIssue } from '../errors/index.js';
import { closest } from '../util/suggest.js';
import { ConfigSchema, GroupSchema, KNOWN_KEYS, PolicySchema, ProviderSchema, type Config } from './schema.js';
import { assign, type ResolvedConfig } from './assign.js';
import { semanticIssues, type PathIssue } from './semantic.js';

export type ParseResult =
  | { ok: true; config: ResolvedConfig; /** positions for issues found later (e.g. against the live system) */ locate: (issues: PathIssue[]) => SourceIssue[] }
  | { ok: false; issues: SourceIssue[] };

type Range = [number, number];

interface Located {
  range: Range;
}

/** Find the node for a path; for a missing key, the nearest existing parent. `key` asks for the key node. */
function locate(doc: Document, path: (string | number)[], key = false): Located | undefined {
  let node: unknown = doc.contents;
  let last: Located | undefined = node && (node as Node).range ? { range: (node as Node).range!.slice(0, 2) as Range } : undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p: Pair) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return last;
      const isLast = i === path.length - 1;
      const target = isLast && key ? pair.key : (pair.value ?? pair.key);
      node = target;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return last;
    }
    const n = node as Node | undefined;
    if (n?.range) last = { range: n.range.slice(0, 2) as Range };
    else return last;
  }
  return last;
}

function knownKeysAt(path: (string | number)[]): string[] {
  if (path.length === 0) return KNOWN_KEYS.root!;
  if (path[0] === 'providers' && path.length === 2) return KNOWN_KEYS.provider!;
  if (path[0] === 'policies' && path.length === 2) return KNOWN_KEYS.policy!;
  if (path[0] === 'groups' && path.length === 2) return KNOWN_KEYS.group!;
  if (path[0] === 'providers' && path.length === 3 && path[2] === 'health') return KNOWN_KEYS.health!;
  if (path[0] === 'policies' && path.length === 3 && path[2] === 'match') return KNOWN_KEYS.match!;
  if (path[0] === 'copy' && path.length === 1) return KNOWN_KEYS.copy!;
  if (path[0] === 'copy' && path.length === 2 && path[1] === 'exclude') return KNOWN_KEYS.copyExclude!;
  return [];
}

/** The raw value at a path, to tell a missing key from a value of the wrong type. */
function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let v = raw;
  for (const seg of path) {
    if (seg === 0 && v !== undefined && !Array.isArray(v)) continue; // a scalar given where a list is allowed is item 0
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function zodToPathIssues(issues: z.core.$ZodIssue[], raw: unknown): PathIssue[] {
  const out: PathIssue[] = [];
  for (const i of issues) {
    const path = i.path.map((p): string | number => (typeof p === 'symbol' ? String(p) : p));
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) {
        const guess = closest(k, knownKeysAt(path));
        out.push({
          path: [...path, k],
          atKey: true,
          message: `unknown key "${k}"`,
          hint: guess ? `did you mean "${guess}"?` : `known keys here: ${knownKeysAt(path).join(', ')}`,
        });
      }
      continue;
    }
    if (i.code === 'invalid_union' && Array.isArray((i as { errors?: unknown }).errors)) {
      // `x` or `{ … }` (a group's short and long form): report the form the value has, in detail
      const branches = (i as unknown as { errors: z.core.$ZodIssue[][] }).errors;
      const fitting = branches.filter((b) => !(b.length === 1 && b[0]!.code === 'invalid_type' && b[0].path.length === 0));
      if (fitting.length === 1) {
        out.push(
          ...zodToPathIssues(
            fitting[0]!.map((x) => ({ ...x, path: [...i.path, ...x.path] })),
            raw,
          ),
        );
        continue;
      }
    }
    const hint = i.code === 'custom' ? (i.params as { hint?: string } | undefined)?.hint : undefined;
    const message = i.message;
    if (i.code === 'invalid_type' && valueAt(raw, path) === undefined) {
      // Point at the key of the object that lacks it ("isp1:"), not at the whole object.
      const key = String(path[path.length - 1]);
      const parent = path.slice(0, -1);
      // "gatway" given for "gateway": the unknown-key error already says what to write.
      const misspelt = issues.some(
        (o) => o.code === 'unrecognized_keys' && o.path.join('.') === parent.join('.') && o.keys.some((k) => closest(k, knownKeysAt(parent)) === key),
      );
      if (!misspelt) out.push({ path: parent, atKey: true, message: `missing required key "${key}"`, hint });
      continue;
    }
    out.push({ path, message, hint });
  }
  return out;
}

function toSourceIssue(text: string, file: string, lc: LineCounter, doc: Document, p: PathIssue): SourceIssue {
  const loc = locate(doc, p.path, p.atKey);
  const start = loc?.range[0] ?? 0;
  return atOffset(text, file, lc, start, loc ? loc.range[1] - start : 1, p);
}

function atOffset(text: string, file: string, lc: LineCounter, start: number, length: number, p: Omit<PathIssue, 'atKey'>): SourceIssue {
  const { line, col } = lc.linePos(start);
  const lineText = text.split('\n')[line - 1] ?? '';
  const span = Math.max(1, Math.min(length, lineText.length - (col - 1)));
  return {
    file,
    line,
    col,
    path: p.path,
    message: p.message,
    ...(p.hint ? { hint: p.hint } : {}),
    source: { text: lineText, start: col - 1, length: span },
  };
}

/** Alias uses a config may expand to: far more than any real config needs, far less than a bomb. */
const MAX_ALIASES = 100;

function firstAlias(doc: Document): Range | undefined {
  let at: Range | undefined;
  visit(doc, {
    Alias(_k, node) {
      if (node.range) at = [node.range[0], node.range[1]];
      return visit.BREAK;
    },
  });
  return at;
}

export function parseConfig(text: string, file: string): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => atOffset(text, file, lc, e.pos[0], e.pos[1] - e.pos[0], { path: [], message: `YAML: ${e.message.split('\n')[0]}` })),
    };
  }
  let raw: unknown;
  try {
    // maxAliasCount: an "alias bomb" (aliases of aliases) would expand exponentially
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (e) {
    const at = firstAlias(doc);
    return {
      ok: false,
      issues: [
        atOffset(text, file, lc, at?.[0] ?? 0, at ? at[1] - at[0] : 1, {
          path: [],
          message: `YAML: ${e instanceof Error ? e.message : String(e)}`,
          hint: `aliases (*name) expand to more than ${MAX_ALIASES} copies here; write the values out, or use fewer aliases`,
        }),
      ],
    };
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    // Report the cross-field errors of the parts that did parse too, so one run shows everything.
    const partial = partialConfig(raw);
    const more = partial ? semanticIssues(partial.config, partial.names) : [];
    const all = [...zodToPathIssues(parsed.error.issues, raw), ...more];
    return { ok: false, issues: sortIssues(dedupe(all.map((p) => toSourceIssue(text, file, lc, doc, p)))) };
  }
  const config: Config = parsed.data;
  const semantic = semanticIssues(config);
  if (semantic.length > 0) {
    return { ok: false, issues: sortIssues(semantic.map((p) => toSourceIssue(text, file, lc, doc, p))) };
  }
  return { ok: true, config: assign(config), locate: (list) => sortIssues(list.map((p) => toSourceIssue(text, file, lc, doc, p))) };
}

/** The providers and policies that parse on their own, with defaults for the rest. */
function partialConfig(raw: unknown): { config: Config; names: string[] } | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const providersRaw = r.providers && typeof r.providers === 'object' && !Array.isArray(r.providers) ? (r.providers as Record<string, unknown>) : {};
  const providers: Config['providers'] = {};
  for (const [k, v] of Object.entries(providersRaw)) {
    const p = ProviderSchema.safeParse(v);
    if (p.success) providers[k] = p.data;
  }
  const policies = (Array.isArray(r.policies) ? r.policies : []).map((v) => PolicySchema.safeParse(v));
  const top = ConfigSchema.pick({ routes: true, mark_mask: true, rule_priority: true, route_protocol: true, copy: true }).safeParse({
    routes: r.routes,
    mark_mask: r.mark_mask,
    rule_priority: r.rule_priority,
    route_protocol: r.route_protocol,
    copy: r.copy,
  });
  if (!top.success) return undefined;
  const groupsRaw = r.groups && typeof r.groups === 'object' && !Array.isArray(r.groups) ? (r.groups as Record<string, unknown>) : {};
  const groups: Config['groups'] = {};
  for (const [k, v] of Object.entries(groupsRaw)) {
    const g = GroupSchema.safeParse(v);
    if (g.success) groups[k] = g.data;
  }
  const config: Config = {
    ...top.data,
    providers,
    groups,
    hooks: [],
    hook_timeout: 5000,
    local_traffic: 'policies',
    usage_file: '/var/lib/multihome/usage.json',
    default: typeof r.default === 'string' ? r.default : '',
    // keep list positions so paths stay right: failed policies become inert placeholders that are skipped
    policies: policies.map((p) => (p.success ? p.data : null)) as Config['policies'],
  };
  return { config, names: Object.keys(providersRaw) };
}

const dedupe = (list: SourceIssue[]): SourceIssue[] => {
  const seen = new Set<string>();
  return list.filter((i) => {
    const k = `${i.line}:${i.col}:${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

const sortIssues = (list: SourceIssue[]): SourceIssue[] => [...list].sort((a, b) => a.line - b.line || a.col - b.col);
