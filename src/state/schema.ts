// The State model as a zod schema, for State that comes from outside the
// process: `explain --state DIR` (a state.json someone saved, maybe edited or
// corrupted) and the confirm timer's snapshot in the state dir. A file that
// does not fit is a user error naming the field, never a crash deep in the
// simulator. Kept beside types.ts; the assignments at the end make the
// compiler check that both say the same.
import * as z from 'zod';
import { UserError } from '../errors/index.js';
import { parseAddress, parsePrefix } from '../net/ip.js';
import type { Program } from './program.js';
import type { State } from './types.js';

const u32 = z.number().int().min(0).max(0xffffffff);
const u8 = z.number().int().min(0).max(255);
const text = (max = 256) => z.string().max(max);
/** addresses and prefixes as ip prints them (canonical: no host bits set) */
const addr = z
  .string()
  .max(64)
  .refine((s) => parseAddress(s) !== null, { error: 'not an IPv4 or IPv6 address' });
const prefix = z
  .string()
  .max(64)
  .refine((s) => parsePrefix(s).ok, { error: 'not a prefix (or address) without host bits' });
const dst = z
  .string()
  .max(64)
  .refine((s) => s === 'default' || parsePrefix(s).ok, { error: 'not "default" or a prefix without host bits' });
/** The family of an address or prefix text (the schema has checked that it parses). */
const familyOf = (s: string): number | undefined => (s === 'default' ? undefined : parseAddress(s.split('/')[0]!)?.family);
/** Addresses of a route or rule must be of its family. */
const sameFamily = (o: { family: number }, fields: (string | undefined)[]): boolean =>
  fields.every((f) => f === undefined || familyOf(f) === undefined || familyOf(f) === o.family);
const family = z.union([z.literal(4), z.literal(6)]);
const span = z.object({ from: z.number().int().min(0).max(0xffffffff), to: z.number().int().min(0).max(0xffffffff) });

const RuleStateSchema = z
  .object({
    family,
    pref: u32,
    action: z.enum(['lookup', 'goto', 'nop', 'unreachable', 'prohibit', 'blackhole']),
    table: u32.optional(),
    goto: u32.optional(),
    not: z.boolean().optional(),
    from: prefix.optional(),
    to: prefix.optional(),
    fwmark: u32.optional(),
    fwmask: u32.optional(),
    iif: text(16).optional(),
    oif: text(16).optional(),
    tos: u8.optional(),
    ipproto: u8.optional(),
    sport: span.optional(),
    dport: span.optional(),
    uidrange: span.optional(),
    suppressPrefixlength: z.number().int().min(-1).max(128).optional(),
    suppressIfgroup: z.number().int().min(-1).max(0xffffffff).optional(),
    protocol: u8,
  })
  .refine((r) => sameFamily(r, [r.from, r.to]), { error: 'an address of the other family' });

const NexthopSchema = z.object({
  gateway: addr.optional(),
  dev: text(16).optional(),
  weight: z.number().int().min(1).max(256),
  flags: z.array(text(32)).max(16),
});

const RouteStateSchema = z
  .object({
    family,
    table: u32,
    dst,
    from: prefix.optional(),
    type: z.enum(['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat']),
    tos: u8,
    metric: u32,
    protocol: u8,
    scope: u8,
    prefsrc: addr.optional(),
    gateway: addr.optional(),
    dev: text(16).optional(),
    flags: z.array(text(32)).max(16),
    nexthops: z.array(NexthopSchema).max(512).optional(),
  })
  .refine((r) => sameFamily(r, [r.dst, r.from, r.prefsrc]), { error: 'an address of the other family' }); // (an IPv4 route may have an IPv6 nexthop: RFC 5549)

const NftStateSchema = z.object({
  family: z.literal('inet'),
  name: text(64),
  fingerprint: text(64),
  script: z
    .string()
    .max(64 << 20)
    .optional(),
  digest: text(64).optional(),
  chains: z.number().int().min(0).optional(),
  rules: z.number().int().min(0).optional(),
});

const LinkStateSchema = z.object({
  name: text(16),
  index: z.number().int().min(0).max(0x7fffffff),
  up: z.boolean(),
  carrier: z.boolean(),
  group: u32.optional(),
  addresses: z
    .array(
      z.object({
        family,
        address: addr,
        prefixlen: z.number().int().min(0).max(128),
        scope: text(32),
        peer: addr.optional(),
        flags: z.array(text(32)).max(16).optional(),
      }),
    )
    .max(100_000),
});

// ---- the packet program

const negatable = <T extends z.ZodType>(item: T) => z.object({ values: z.array(item).max(1_000_000), not: z.boolean().optional() });
const masked = z.object({ value: u32, mask: u32, not: z.boolean().optional() });
const chainName = text(512);

const MatchSchema = z.object({
  family: family.optional(),
  saddr: negatable(prefix).optional(),
  daddr: negatable(prefix).optional(),
  l4proto: negatable(u8).optional(),
  sport: negatable(span).optional(),
  dport: negatable(span).optional(),
  iif: negatable(text(16)).optional(),
  oif: negatable(text(16)).optional(),
  mark: masked.optional(),
  ctmark: masked.optional(),
  ctstate: negatable(z.enum(['new', 'established', 'related', 'invalid', 'untracked'])).optional(),
  daddrType: negatable(z.enum(['local', 'broadcast', 'multicast', 'unicast'])).optional(),
  inSet: z
    .object({
      keys: z
        .array(z.enum(['saddr', 'daddr']))
        .min(1)
        .max(2),
      set: text(),
    })
    .optional(),
});

const ActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('accept') }),
  z.object({ kind: z.literal('drop') }),
  z.object({ kind: z.literal('return') }),
  z.object({ kind: z.literal('jump'), chain: chainName }),
  z.object({ kind: z.literal('goto'), chain: chainName }),
  z.object({ kind: z.literal('mark'), and: u32, xor: u32 }),
  z.object({ kind: z.literal('ctmark'), and: u32, xor: u32 }),
  z.object({ kind: z.literal('restore-mark'), nfmask: u32, ctmask: u32 }),
  z.object({ kind: z.literal('save-mark'), nfmask: u32, ctmask: u32 }),
  z.object({
    kind: z.literal('vmap'),
    key: z.enum(['ctmark', 'mark', 'iif', 'oif']),
    mask: u32.optional(),
    entries: z.array(z.object({ key: z.union([z.string().max(64), u32]), verdict: z.enum(['jump', 'goto']), chain: chainName })).max(1_000_000),
  }),
  z.object({
    kind: z.literal('balance'),
    by: z.enum(['random', 'source', 'source-destination']),
    entries: z.array(z.object({ weight: z.number().int().min(1).max(1_000_000), chain: chainName })).max(10_000),
    map: z.array(chainName).min(1).max(65_536).optional(),
  }),
  z.object({
    kind: z.literal('remember'),
    set: text(),
    keys: z
      .array(z.enum(['saddr', 'daddr']))
      .min(1)
      .max(2),
  }),
  z.object({ kind: z.literal('snat'), to: addr }),
  z.object({ kind: z.literal('prefix-nat'), dir: z.enum(['snat', 'dnat']), to: prefix }),
  z.object({ kind: z.literal('masquerade') }),
  z.object({ kind: z.literal('dnat'), to: addr, port: z.number().int().min(0).max(65535).optional() }),
  z.object({ kind: z.literal('noop'), what: text() }),
]);

const ProgramSchema = z.object({
  chains: z
    .array(
      z.object({
        name: chainName,
        hook: z.enum(['prerouting', 'input', 'forward', 'output', 'postrouting']).optional(),
        type: z.enum(['filter', 'nat', 'route']).optional(),
        priority: z.number().int().min(-0x80000000).max(0x7fffffff).optional(),
        families: z.array(family).max(2).optional(),
        policy: z.enum(['accept', 'drop']).optional(),
        rules: z
          .array(
            z.object({
              match: MatchSchema,
              actions: z.array(ActionSchema).max(64),
              comment: z.string().max(4096).optional(),
              origin: z.string().max(4096).optional(),
              unsupported: z.string().max(4096).optional(),
            }),
          )
          .max(1_000_000),
      }),
    )
    .max(100_000),
  sets: z
    .array(
      z.object({
        name: text(),
        family,
        keys: z
          .array(z.enum(['saddr', 'daddr']))
          .min(1)
          .max(2),
        timeout: z.number().int().min(0).max(0x7fffffff),
      }),
    )
    .max(100_000)
    .optional(),
});

export const StateSchema = z.object({
  rules: z.array(RuleStateSchema).max(1_000_000),
  routes: z.array(RouteStateSchema).max(10_000_000),
  nft: NftStateSchema.nullable(),
  sysctls: z.record(z.string().max(256), z.string().max(4096)),
  links: z.array(LinkStateSchema).max(100_000),
  program: ProgramSchema.optional(),
  hidden: z.object({ customRules4: z.boolean().optional(), customLocalRoutes4: z.boolean().optional() }).optional(),
});

// The compiler checks that the schema describes exactly the State types.
const _programFits = (p: z.output<typeof ProgramSchema>): Program => p;
const _stateFits = (s: z.output<typeof StateSchema>): State => s;
void [_programFits, _stateFits];

/** Where a value fails the schema, as "routes[3].dst: …" (the first few problems). */
export function schemaProblems(e: z.ZodError, max = 3): string {
  const parts = e.issues
    .slice(0, max)
    .map((i) => `${i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n ? '.' : ''}${String(p)}`)).join('') || '(top)'}: ${i.message}`);
  return parts.join('; ') + (e.issues.length > max ? `; and ${e.issues.length - max} more` : '');
}

/** A saved state (state.json) checked against the schema: a file that does not fit is a user error naming the field. */
export function parseSavedState(text: string, file: string): State {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not a saved state (${e instanceof Error ? e.message : String(e)})`, [], 'write one with `multihome state save DIR`');
  }
  const r = StateSchema.safeParse(json);
  if (!r.success)
    throw new UserError(`${file}: not a saved state (${schemaProblems(r.error)})`, [], 'write one with `multihome state save DIR`, or fix the field named');
  return r.data;
}
