// The config schema: the one source of the Config type. Field parsers turn
// text into canonical values (prefixes, port ranges) and report what to write
// instead; cross-field checks live in semantic.ts.
import * as z from 'zod';
import { formatAddress, parseAddress, parsePrefix, type Address, type Family, type Prefix } from '../net/ip.js';
import { parsePortRange, normalisePortRanges, PROTOCOLS, type PortRange } from '../net/ports.js';
import { closest } from '../util/suggest.js';
import { RT_PROTOCOLS } from '../ids.js';

/** An issue raised inside a field parser; `hint` says what to write instead. */
function fail(ctx: z.core.$RefinementCtx, message: string, hint?: string): never {
  ctx.addIssue({ code: 'custom', message, params: hint ? { hint } : undefined });
  return z.NEVER;
}

/** `x` or `[x, …]`, always a list after parsing. A scalar is wrapped first, so the item's own error shows. */
const listOf = <T extends z.ZodType>(item: T, what: string) =>
  z.preprocess(
    (v) => (v === undefined || v === null || Array.isArray(v) ? v : [v]),
    z.array(item, { error: `expected ${what} or a list of them` }).min(1, { error: `an empty list of ${what}; remove the key or list at least one` }),
  );

/** Provider names end up in nft chain names and messages. */
export const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

const name = (what: string) =>
  z.string({ error: `expected a ${what} name` }).refine((s) => NAME.test(s), {
    error: `a ${what} name starts with a letter and has at most 32 letters, digits, "_" or "-"`,
  });

const ifname = z.string({ error: 'expected an interface name such as eth1' }).refine((s) => IFNAME.test(s), {
  error: 'an interface name has 1 to 15 letters, digits, ".", "_" or "-"',
});

const address = z.string({ error: 'expected an IPv4 or IPv6 address' }).transform((s, ctx): Address => {
  const a = parseAddress(s);
  if (!a) return fail(ctx, `"${s}" is not an IPv4 or IPv6 address`, 'an address such as 203.0.113.1 or 2001:db8::1');
  return a;
});

const prefix = z.union([z.string(), z.number()], { error: 'expected a prefix such as 192.168.99.0/24' }).transform((raw, ctx): Prefix => {
  const s = String(raw);
  const r = parsePrefix(s);
  if (!r.ok) return fail(ctx, r.reason, r.suggestion ? `write ${r.suggestion}` : 'a prefix such as 192.168.99.0/24 or 2001:db8::/64');
  return r.prefix;
});

const port = z.union([z.number(), z.string()], { error: 'expected a port (443) or a range ("8000-8080")' }).transform((raw, ctx): PortRange => {
  const r = parsePortRange(raw);
  if (!r.ok) return fail(ctx, r.reason);
  return r.range;
});

const protocol = z.union([z.string(), z.number()], { error: 'expected a protocol name such as tcp or udp' }).transform((raw, ctx): string => {
  const s = String(raw).toLowerCase();
  if (Object.hasOwn(PROTOCOLS, s)) return s === 'ipv6-icmp' ? 'icmpv6' : s;
  const n = Number(s);
  if (Number.isInteger(n) && n >= 0 && n <= 255) {
    const known = Object.entries(PROTOCOLS).find(([, v]) => v === n);
    return known ? known[0] : String(n);
  }
  const guess = closest(s, Object.keys(PROTOCOLS));
  return fail(ctx, `unknown protocol "${raw}"`, guess ? `did you mean "${guess}"?` : `one of ${Object.keys(PROTOCOLS).join(', ')} or a number 0-255`);
});

const uint = (what: string, max: number, why?: string) =>
  z
    .number({ error: `expected ${what} as a number (decimal or 0x hex)` })
    .int({ error: `${what} must be a whole number` })
    .min(0, { error: `${what} cannot be negative` })
    .max(max, { error: `${what} must be at most ${max}${why ? `, ${why}` : ''}` });

/** multihome's rules take rule_priority … rule_priority + 999 at least (priorities.ts); the kernel's main rule is 32766. */
export const MAX_RULE_PRIORITY = 32766 - 1000;

const strategy = z.enum(['follow', 'copy'], { error: 'expected "follow" (look up main first, live) or "copy" (copy main into the table)' });

/** One address per family at most; `gateway: [203.0.113.1, 2001:db8::1]` gives both. */
const perFamily = (what: string, plural: string) =>
  listOf(address, plural).transform((list, ctx) => {
    const out: { 4?: Address; 6?: Address } = {};
    for (const a of list) {
      if (out[a.family]) return fail(ctx, `two IPv${a.family} ${plural}; give at most one per address family`);
      out[a.family] = a;
    }
    return out;
  });

/**
 * Per family: an address to SNAT to, masquerade (the interface's address), false (no NAT: routed),
 * or (IPv6) NPTv6: sources in `npt` (the LAN's prefix) get the provider's delegated prefix in its
 * place, keeping their interface IDs (RFC 6296, nft `snat ip6 prefix to`).
 */
export type SnatTarget = Address | 'masquerade' | false | { npt: Prefix };
export type SnatPerFamily = { 4?: SnatTarget; 6?: SnatTarget };

const SNAT_ERROR = 'expected an address to SNAT to, "masquerade", false (no NAT), or { ipv4: …, ipv6: … }';

function snatTarget(v: unknown, ctx: z.core.$RefinementCtx, family: Family): SnatTarget {
  if (v === false || v === 'masquerade') return v;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (family !== 6 || keys.length !== 1 || keys[0] !== 'npt')
      return fail(ctx, `ipv${family}: expected an address, "masquerade" or false${family === 6 ? ', or { npt: LAN-PREFIX }' : ''}`);
    const r = parsePrefix(String(o.npt));
    if (!r.ok || r.prefix.family !== 6)
      return fail(ctx, `ipv6.npt: ${r.ok ? 'an IPv4 prefix' : r.reason}`, "the LAN's IPv6 prefix, e.g. { npt: fd00:99::/64 }");
    return { npt: r.prefix };
  }
  const a = typeof v === 'string' ? parseAddress(v) : null;
  if (!a) return fail(ctx, `ipv${family}: expected an address to SNAT to, "masquerade", or false (no NAT)`);
  if (a.family !== family) return fail(ctx, `ipv${family}: ${formatAddress(a)} is an IPv${a.family} address`);
  return a;
}

const snat = z.unknown().transform((v, ctx): SnatPerFamily => {
  if (v === false || v === 'masquerade') return { 4: v, 6: v };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const unknownKeys = Object.keys(o).filter((k) => k !== 'ipv4' && k !== 'ipv6');
    if (unknownKeys.length) return fail(ctx, `unknown key "${unknownKeys[0]}" in snat`, 'use ipv4: and ipv6:');
    const out: SnatPerFamily = {};
    if (o.ipv4 !== undefined) out[4] = snatTarget(o.ipv4, ctx, 4);
    if (o.ipv6 !== undefined) out[6] = snatTarget(o.ipv6, ctx, 6);
    return out;
  }
  if (typeof v !== 'string' && !Array.isArray(v)) return fail(ctx, SNAT_ERROR);
  const r = perFamily('address', 'addresses').safeParse(v);
  if (r.success) return r.data;
  const first = r.error.issues[0] as { message: string; params?: { hint?: string } } | undefined;
  return fail(ctx, first?.message ?? 'not an address', first?.params?.hint);
});

/** What a provider does to the source of traffic of one family leaving by it (masquerade unless said). */
export const snatFor = (p: { snat?: SnatPerFamily }, family: Family): SnatTarget => p.snat?.[family] ?? 'masquerade';

/** The longest duration a config may give: a day (timers of more than 2^31 ms do not work in Node). */
const MAX_DURATION = 86_400_000;

/** A duration: "200ms", "1s", "1.5s", "10m", "1h", or a number of milliseconds; above 0, at most a day. */
const duration = (what: string) =>
  z.union([z.number(), z.string()], { error: `expected ${what} as a duration such as 200ms or 1s` }).transform((v, ctx): number => {
    let ms: number;
    if (typeof v === 'number') ms = v;
    else {
      const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v);
      if (!m) return fail(ctx, `"${v}" is not a duration`, 'write it like 200ms, 1s, 10m or 1h');
      ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    }
    if (!Number.isFinite(ms) || ms <= 0) return fail(ctx, `${what} must be above 0`);
    if (ms > MAX_DURATION) return fail(ctx, `${what} must be at most a day (86400s)`);
    return ms;
  });

/**
 * How `multihome run` checks an uplink: probes bound to the uplink's address, so they leave by
 * that uplink whatever main's default route is. Defaults (20 probes a second per target, down after
 * 5 lost in a row) find a hard outage 250–300 ms after it starts, and 5 % random loss takes a
 * provider down about once in 100 half-hours (36,000 rounds × 0.05^5); docs/config.md has the
 * arithmetic.
 */
const HealthSchema = z.strictObject({
  probe: z.enum(['icmp', 'tcp', 'http', 'https', 'dns'], { error: 'expected icmp, tcp, http, https or dns' }).default('icmp'),
  targets: listOf(address, 'addresses'),
  /** tcp: the port to connect to (default 443); dns: the server port (53) */
  port: z.number().int().min(1).max(65535).optional(),
  /** http/https: the path to ask for (default /) */
  path: z.string().optional(),
  /** dns: the name to ask for (default example.com) */
  name: z.string().optional(),
  interval: duration('interval').default(50),
  timeout: duration('timeout').default(250),
  down: z.number().int().min(1).max(100).default(5),
  up: z.number().int().min(1).max(100).default(20),
  /** degraded above this mean round-trip time */
  latency: duration('latency').optional(),
  /** degraded above this fraction of lost probes (0–1) */
  loss: z.number().min(0).max(1).optional(),
  /** degraded above this mean difference between consecutive round-trip times */
  jitter: duration('jitter').optional(),
  initial: z.enum(['up', 'down']).default('up'),
  /** a round is good when any target answers (default) or only when all do */
  policy: z.enum(['any', 'all']).default('any'),
});
export type HealthConfig = z.output<typeof HealthSchema>;

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** A byte count: "20GB", "500 MiB", or a number of bytes. */
const bytes = z.union([z.number(), z.string()], { error: 'expected a size such as 20GB or 500MiB' }).transform((v, ctx): number => {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v <= 0) return fail(ctx, 'a size is a whole number of bytes above 0');
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*$/i.exec(v);
  if (!m) return fail(ctx, `"${v}" is not a size`, 'write it like 20GB or 500MiB');
  const n = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (n <= 0) return fail(ctx, 'a size must be above 0');
  return n;
});

export type QuotaPeriod = 'day' | 'week' | 'month';
interface QuotaConfig {
  limit: number;
  period: QuotaPeriod;
  /** once used up: still the last choice of its groups (true), or out of them like a down provider */
  last_resort: boolean;
}

const period = z.enum(['day', 'week', 'month'], { error: 'expected day, week or month' });

/** `quota: 20GB per month`, or `{ limit: 20GB, per: month, last_resort: true }`. */
const quota = z
  .union([z.string(), z.record(z.string(), z.unknown())], { error: 'expected "20GB per month" or { limit: 20GB, per: month, last_resort: true }' })
  .transform((v, ctx): QuotaConfig => {
    if (typeof v === 'string') {
      const m = /^\s*(.+?)\s+per\s+(\w+)\s*$/i.exec(v);
      if (!m) return fail(ctx, `"${v}" is not a quota`, 'write it like "20GB per month" (day, week or month)');
      const limit = bytes.safeParse(m[1]);
      const per = period.safeParse(m[2]!.toLowerCase());
      if (!limit.success) return fail(ctx, `"${m[1]}" is not a size`, 'write it like 20GB or 500MiB');
      if (!per.success) return fail(ctx, `"${m[2]}" is not a period`, 'day, week or month');
      return { limit: limit.data, period: per.data, last_resort: false };
    }
    const r = z
      .strictObject({ limit: bytes, per: period.default('month'), last_resort: z.boolean({ error: 'expected true or false' }).default(false) })
      .safeParse(v);
    if (!r.success) {
      const first = r.error.issues[0]!;
      return fail(ctx, `quota${first.path.length ? `.${first.path.join('.')}` : ''}: ${first.message}`, 'e.g. { limit: 20GB, per: month, last_resort: true }');
    }
    return { limit: r.data.limit, period: r.data.per, last_resort: r.data.last_resort };
  });

export const ProviderSchema = z.strictObject(
  {
    interface: ifname,
    gateway: perFamily('gateway', 'gateways'),
    snat: snat.optional(),
    table: uint('table', 0xffffffff).optional(),
    mark: uint('mark', 0xffffffff).optional(),
    routes: strategy.optional(),
    health: HealthSchema.optional(),
    /** IPv6 prefixes the provider routes to this router (delegated, e.g. by DHCPv6-PD) for its LANs */
    delegated: listOf(prefix, 'prefixes').optional(),
    /** paid per byte (LTE, satellite): groups use it only while none of their unmetered members is up */
    metered: z.boolean({ error: 'expected true or false' }).default(false),
    /** bytes it may carry per period (both directions, counted by the daemon, kept across restarts) */
    quota: quota.optional(),
  },
  { error: 'expected a provider: { interface: …, gateway: … }' },
);

const MatchSchema = z.strictObject(
  {
    from: listOf(prefix, 'prefixes').optional(),
    to: listOf(prefix, 'prefixes').optional(),
    protocol: listOf(protocol, 'protocols').optional(),
    sport: listOf(port, 'ports').transform(normalisePortRanges).optional(),
    dport: listOf(port, 'ports').transform(normalisePortRanges).optional(),
    iif: listOf(ifname, 'interfaces').optional(),
    /** true: the router's own connections (from its unbound sockets) instead of forwarded ones */
    local: z.boolean({ error: "expected true (the router's own traffic) or false" }).optional(),
  },
  { error: 'expected a mapping of match fields (from, to, protocol, sport, dport, iif, local)' },
);

export const PolicySchema = z.strictObject({
  name: z.string({ error: 'expected a policy name' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, {
    error: 'a policy name has up to 64 letters, digits, ".", ":", "_" or "-", starting with a letter or digit',
  }),
  match: MatchSchema.default({}),
  via: name('provider or group'),
});

/** A tier of a group: one provider (weight 1) or providers with weights ({ isp1: 3, isp2: 1 }). */
const TierSchema = z
  .union(
    [
      z.string(),
      z.record(
        z.string(),
        z
          .number({ error: 'a weight is a number' })
          .int({ error: 'a weight is a whole number' })
          .min(1, { error: 'a weight is at least 1' })
          .max(1000, { error: 'a weight is at most 1000' }),
      ),
    ],
    {
      error: 'expected a provider name or a mapping of providers to weights (1-1000), e.g. { isp1: 3, isp2: 1 }',
    },
  )
  .transform((t) => (typeof t === 'string' ? [{ name: t, weight: 1 }] : Object.entries(t).map(([name, weight]) => ({ name, weight }))));

const tiers = z.array(TierSchema, { error: 'expected a list of tiers' }).min(1, { error: 'a group needs at least one tier' });

/**
 * A group: tiers in order (the first tier with a healthy member is used, balanced by weight among
 * its healthy members). The short form is just the list of tiers.
 */
export const GroupSchema = z
  .union(
    [
      tiers,
      z.strictObject({
        tiers,
        /** keep each connection on its member (always), or also each source address (or source and destination) */
        sticky: z
          .enum(['connection', 'source', 'source_destination'], { error: 'expected "connection", "source" or "source_destination"' })
          .default('connection'),
        /** how long a source keeps its member after its last new connection (sticky: source or source_destination) */
        sticky_timeout: duration('sticky_timeout').optional(),
        /** when every member is down: main's default route, or unreachable */
        last_resort: z.enum(['main', 'unreachable'], { error: 'expected "main" or "unreachable"' }).default('main'),
        /** degraded members (latency, loss or jitter over their thresholds) are a second choice */
        avoid_degraded: z.boolean({ error: 'expected true or false' }).default(false),
        /** when a better member is back: at once, after it has been up this long, or only on `multihome failback` */
        failback: z
          .union([z.literal('immediate'), z.literal('manual'), duration('failback')], { error: 'expected immediate, manual or a hold time such as 60s' })
          .default('immediate'),
        /** on failback, delete the connections on the members given up, so they reconnect by the preferred one */
        failback_flush: z.boolean({ error: 'expected true or false' }).default(false),
      }),
    ],
    { error: 'expected a list of tiers, or { tiers: [...], sticky: …, last_resort: …, avoid_degraded: …, failback: … }' },
  )
  .transform((g) =>
    Array.isArray(g)
      ? { tiers: g, sticky: 'connection' as const, last_resort: 'main' as const, avoid_degraded: false, failback: 'immediate' as const, failback_flush: false }
      : g,
  );

/** A route protocol by its iproute2 name (bgp, kernel, dhcp, …) or number. */
const routeProtocol = z
  .union([z.string(), z.number()], { error: 'expected a route protocol name such as bgp or a number 0-255' })
  .transform((raw, ctx): number => {
    const s = String(raw).toLowerCase();
    if (Object.hasOwn(RT_PROTOCOLS, s)) return RT_PROTOCOLS[s]!;
    const n = Number(s);
    if (Number.isInteger(n) && n >= 0 && n <= 255) return n;
    const guess = closest(s, Object.keys(RT_PROTOCOLS));
    return fail(
      ctx,
      `unknown route protocol "${raw}"`,
      guess ? `did you mean "${guess}"?` : `one of ${Object.keys(RT_PROTOCOLS).join(', ')} or a number 0-255`,
    );
  });

/** The rtnetlink protocol on route copies by default: unassigned, next to route_protocol's 77. */
export const DEFAULT_COPY_PROTOCOL = 78;

/** What `routes: copy` copies from main, and how the copies are kept. */
const CopySchema = z.strictObject(
  {
    /** routes of main not copied (main's default route never is: each table has its provider's) */
    exclude: z
      .strictObject(
        {
          /** routes at or inside these prefixes */
          prefixes: listOf(prefix, 'prefixes').optional(),
          /** routes through these interfaces */
          devices: listOf(ifname, 'interfaces').optional(),
          /** routes of these protocols (bgp, dhcp, kernel, … or numbers) */
          protocols: listOf(routeProtocol, 'protocols').optional(),
        },
        { error: 'expected { prefixes: […], devices: […], protocols: […] }' },
      )
      .default({}),
    /** the rtnetlink protocol the copies carry: how multihome tells its copies from other routes */
    protocol: uint('copy.protocol', 255)
      .refine((p) => !Object.values(RT_PROTOCOLS).includes(p), {
        error: 'copy.protocol must not be an id other software uses: multihome removes the copies that carry it',
      })
      .default(DEFAULT_COPY_PROTOCOL),
    /** how often the daemon compares the tables with main and repairs what drifted */
    check: duration('copy.check').default(60_000),
  },
  { error: 'expected { exclude: …, protocol: …, check: … }' },
);
export type CopyConfig = z.output<typeof CopySchema>;

export const DEFAULTS = {
  routes: 'follow' as const,
  mark_mask: 0xff,
  rule_priority: 10000,
  route_protocol: 0x4d, // 77: an unassigned rtnetlink protocol id, our ownership tag
};

export const ConfigSchema = z.strictObject(
  {
    routes: strategy.default(DEFAULTS.routes),
    mark_mask: uint('mark_mask', 0xffffffff)
      .refine((m) => m !== 0, { error: 'mark_mask must have at least one bit set' })
      .default(DEFAULTS.mark_mask),
    rule_priority: uint('rule_priority', MAX_RULE_PRIORITY, 'so that multihome\'s 1000 priorities stay ahead of the kernel\'s "32766: lookup main"')
      .refine((p) => p >= 1, { error: 'rule_priority must be above 0, where the local table is looked up' })
      .default(DEFAULTS.rule_priority),
    route_protocol: uint('route_protocol', 255)
      .refine((p) => !Object.values(RT_PROTOCOLS).includes(p), {
        error: 'route_protocol must not be an id other software uses (kernel, boot, static, dhcp, bird, …): multihome removes what carries its tag',
      })
      .default(DEFAULTS.route_protocol),
    copy: CopySchema.default({ exclude: {}, protocol: DEFAULT_COPY_PROTOCOL, check: 60_000 }),
    providers: z.record(z.string(), ProviderSchema, { error: 'expected a mapping of provider names to providers' }), // names: semantic.ts
    groups: z.record(z.string(), GroupSchema, { error: 'expected a mapping of group names to groups' }).default({}),
    /** executables `multihome run` starts on every provider state change (like mwan3's user script) */
    hooks: listOf(
      z.string({ error: 'expected the path of an executable' }).refine((p) => p.startsWith('/'), { error: 'a hook is an absolute path' }),
      'paths',
    ).default([]),
    hook_timeout: duration('hook_timeout').default(5000),
    /** where the daemon keeps metered providers' byte counts (a place that survives a reboot) */
    usage_file: z
      .string({ error: 'expected the path of a file' })
      .refine((p) => p.startsWith('/') && !p.endsWith('/'), { error: 'usage_file is an absolute path of a file' })
      .default('/var/lib/multihome/usage.json'),
    /** the daemon's read-only HTTP endpoint: /metrics, /api/status, /api/events, the status page */
    web: z
      .strictObject(
        {
          /** host:port, an IPv6 host in brackets: 127.0.0.1:9780, [::1]:9780 */
          listen: z.string({ error: 'expected host:port such as 127.0.0.1:9780' }).transform((v, ctx): { host: string; port: number } => {
            const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(v.trim());
            const host = m ? (m[1] ?? m[2]!) : '';
            const port = m ? Number(m[3]) : 0;
            if (!m || (host !== 'localhost' && !parseAddress(host)) || port < 1 || port > 65535)
              return fail(ctx, `"${v}" is not host:port`, 'e.g. 127.0.0.1:9780 or [::1]:9780');
            return { host, port };
          }),
          /** serving on an address other than loopback must be asked for, and then needs a token */
          allow_remote: z.boolean({ error: 'expected true or false' }).default(false),
          /** a file holding the bearer token every request but /metrics must carry */
          token_file: z
            .string()
            .refine((p) => p.startsWith('/'), { error: 'token_file is an absolute path' })
            .optional(),
          /** /metrics needs the token too */
          protect_metrics: z.boolean({ error: 'expected true or false' }).default(false),
        },
        { error: 'expected { listen: "127.0.0.1:9780" }' },
      )
      .optional(),
    /** a webhook: every event (info and above) POSTed as JSON */
    notify: z
      .strictObject(
        {
          url: z
            .string({ error: 'expected an http:// or https:// URL' })
            .refine((u) => /^https?:\/\/[^\s]+$/.test(u) && URL.canParse(u), { error: 'expected an http:// or https:// URL' }),
          timeout: duration('notify.timeout').default(5000),
          retries: z.number().int().min(0).max(10).default(3),
        },
        { error: 'expected { url: https://… }' },
      )
      .optional(),
    /** router advertisements on the LAN (radvd), for providers whose delegated prefixes the LAN uses unNATed */
    ra: z
      .strictObject(
        {
          /** the LAN interface radvd advertises on */
          interface: ifname,
          /** the radvd binary */
          radvd: z
            .string()
            .refine((p) => p.startsWith('/'), { error: 'radvd is an absolute path' })
            .default('/usr/sbin/radvd'),
        },
        { error: 'expected { interface: LAN-INTERFACE }' },
      )
      .optional(),
    /** the router's own connections: chosen like forwarded ones (default, policies with `local: true`), or by main alone */
    local_traffic: z.enum(['policies', 'main'], { error: 'expected "policies" or "main"' }).default('policies'),
    default: name('provider or group'),
    policies: z.array(PolicySchema, { error: 'expected a list of policies' }).default([]),
  },
  { error: 'a config is a mapping of keys: providers:, default:, and optionally policies:, groups:, … (see docs/config.md)' },
);

export type Config = z.output<typeof ConfigSchema>;
export type ProviderConfig = z.output<typeof ProviderSchema>;
export type PolicyConfig = z.output<typeof PolicySchema>;
export type GroupConfig = z.output<typeof GroupSchema>;

/** Keys of each object in the schema, for "did you mean" on unknown keys. */
export const KNOWN_KEYS: Record<string, string[]> = {
  root: Object.keys(ConfigSchema.shape),
  provider: Object.keys(ProviderSchema.shape),
  policy: Object.keys(PolicySchema.shape),
  group: ['tiers', 'sticky', 'sticky_timeout', 'last_resort', 'avoid_degraded', 'failback', 'failback_flush'],
  health: Object.keys(HealthSchema.shape),
  match: Object.keys(MatchSchema.shape),
  copy: Object.keys(CopySchema.shape),
  copyExclude: ['prefixes', 'devices', 'protocols'],
  ra: ['interface', 'radvd'],
  web: ['listen', 'allow_remote', 'token_file', 'protect_metrics'],
  notify: ['url', 'timeout', 'retries'],
};
