// Benchmark of the longest-prefix-match index (issue 3), not a test:
//
//   node dist/bench/lpm.js [--routes 1000000] [--lookups 5000000] [--seed 1]
//                          [--values nexthop|route] [--parse whole|slices]
//                          [--baseline-lookups N] [--keep]
//
// 1. Generates a seeded BGP-like IPv4 table (mostly /24…/16, some /8–/15, a few
//    /25–/32, a default route; a third of those longer than /16 nested in a
//    shorter prefix) and writes it as an `ip -json route` dump to a temp file.
// 2. Builds Lpm4 from that file: read + JSON.parse + parse dst + add + build.
//    Values: --values nexthop (default) stores one shared object per distinct
//    (gateway, dev, protocol, metric) — what the simulator keeps of a route
//    besides its prefix, which the index already holds; --values route stores
//    every parsed route object as is. --parse whole (default) is one
//    JSON.parse of the dump; --parse slices parses ~1 MiB of it at a time.
//    Each structure is measured in a fresh child process of its own.
// 3. Memory after build (after a full GC, the parsed JSON dropped).
// 4. Lookups/s of `longest`, and of the full longest-first walk, on random
//    addresses (half inside a random route, half uniform over the space).
// 5. The same on a naive baseline in the same run: a Map per prefix length,
//    probed from the longest present length down; results are cross-checked.
// 6. For information, Lpm6 on a seeded random IPv6 table (--v6-routes 100000,
//    --v6-lookups 500000; --v6-routes 0 skips it).
//
// Prints a table and one JSON line (prefix "JSON ").

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { intToIpv4, ipv4Mask, Lpm4, Lpm6, parseIpv4Prefix } from '../src/net/lpm.js';
import { generate, prng, UPLINKS } from './bgp-table.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// ---------------------------------------------------------------------------
// Arguments

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
}
const ROUTES = Number(argValue('routes', '1000000'));
const LOOKUPS = Number(argValue('lookups', '5000000'));
const SEED = Number(argValue('seed', '1'));
const VALUES = argValue('values', 'nexthop');
const BASELINE_LOOKUPS = Number(argValue('baseline-lookups', String(Math.min(LOOKUPS, 1000000))));
const PARSE = argValue('parse', 'whole');
const V6_ROUTES = Number(argValue('v6-routes', '100000'));
const V6_LOOKUPS = Number(argValue('v6-lookups', '500000'));
const KEEP = process.argv.includes('--keep');
if (!(ROUTES >= 1 && LOOKUPS >= 1 && BASELINE_LOOKUPS >= 1)) throw new Error('--routes and --lookups must be positive');
if (VALUES !== 'nexthop' && VALUES !== 'route') throw new Error('--values is nexthop or route');
if (PARSE !== 'whole' && PARSE !== 'slices') throw new Error('--parse is whole or slices');

// A seeded BGP-like table: bench/bgp-table.ts

/** The table as `ip -json route` prints it (one line per route for a smaller file than pretty JSON). */
function writeDump(path: string, nets: Uint32Array, lens: Uint8Array, seed: number): number {
  const rnd = prng(seed ^ 0x5bd1e995);
  const parts: string[] = [];
  for (let i = 0; i < nets.length; i++) {
    const len = lens[i]!;
    const dst = len === 0 ? 'default' : len === 32 ? intToIpv4(nets[i]!) : `${intToIpv4(nets[i]!)}/${len}`;
    const u = UPLINKS[rnd() % UPLINKS.length]!;
    parts.push(`{"dst":"${dst}","gateway":"${u.gateway}","dev":"${u.dev}","protocol":"bird","metric":${u.metric},"flags":[]}`);
  }
  const text = `[${parts.join(',\n')}]\n`;
  writeFileSync(path, text);
  return Buffer.byteLength(text);
}

// ---------------------------------------------------------------------------
// Loading the dump

interface IpJsonRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  flags?: string[];
}
interface Nexthop {
  gateway: string | null;
  dev: string | null;
  protocol: string | null;
  metric: number;
}
type Value = Nexthop | IpJsonRoute;

/** Parsed routes one at a time, each with its value (interned next hop, or the route object). */
/** Seconds spent in the phases of the last load: reading the file, parsing + inserting, freezing. */
const phases = { read: 0, parseInsert: 0, freeze: 0 };

function forEachRoute(path: string, each: (network: number, length: number, value: Value) => void): void {
  let t = performance.now();
  const text = readFileSync(path, 'utf8');
  phases.read = (performance.now() - t) / 1000;
  t = performance.now();
  const interned = new Map<string, Nexthop>();
  const one = (r: IpJsonRoute): void => {
    const p = parseIpv4Prefix(r.dst);
    if (!p) throw new Error(`bad dst ${r.dst}`);
    let value: Value = r;
    if (VALUES === 'nexthop') {
      const key = `${r.gateway ?? ''} ${r.dev ?? ''} ${r.protocol ?? ''} ${r.metric ?? 0}`;
      let nh = interned.get(key);
      if (!nh) interned.set(key, (nh = { gateway: r.gateway ?? null, dev: r.dev ?? null, protocol: r.protocol ?? null, metric: r.metric ?? 0 }));
      value = nh;
    }
    each(p.network, p.length, value);
  };
  if (PARSE === 'whole') for (const r of JSON.parse(text) as IpJsonRoute[]) one(r);
  else forEachArrayItem(text, one);
  phases.parseInsert = (performance.now() - t) / 1000;
}

/**
 * --parse slices: JSON.parse a top-level array a slice of ~1 MiB at a time,
 * cut at the commas between its items (a scan that skips strings), so that
 * the parsed objects of the whole dump never live at once.
 */
function forEachArrayItem(text: string, each: (item: IpJsonRoute) => void): void {
  const open = text.indexOf('[');
  if (open < 0) throw new Error('not a JSON array');
  let depth = 0;
  let inString = false;
  let start = open + 1;
  const flush = (end: number): void => {
    if (text.slice(start, end).trim() === '') return;
    for (const item of JSON.parse(`[${text.slice(start, end)}]`) as IpJsonRoute[]) each(item);
  };
  for (let j = start; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === 92 /* \\ */) j++;
      else if (c === 34) inString = false;
    } else if (c === 34 /* " */) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (depth === 0) {
        flush(j);
        return;
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0 && j - start >= 1 << 20) {
      flush(j);
      start = j + 1;
    }
  }
  throw new Error('unterminated JSON array');
}

function buildLpm(path: string): Lpm4<Value> {
  const lpm = new Lpm4<Value>();
  forEachRoute(path, (net, len, v) => lpm.add(net, len, v));
  const t = performance.now();
  lpm.build();
  phases.freeze = (performance.now() - t) / 1000;
  return lpm;
}

/** The naive baseline: one Map per prefix length, probed from the longest present length down. */
class NaiveLpm {
  readonly maps: Map<number, Value[]>[] = Array.from({ length: 33 }, () => new Map<number, Value[]>());
  lengths: number[] = [];
  masks: number[] = [];
  add(net: number, len: number, v: Value): void {
    const m = this.maps[len]!;
    const list = m.get(net);
    if (list) list.push(v);
    else m.set(net, [v]);
  }
  build(): void {
    for (let l = 32; l >= 0; l--) if (this.maps[l]!.size > 0) this.lengths.push(l);
    this.masks = this.lengths.map((l) => ipv4Mask(l) >>> 0);
  }
  /** The length of the longest matching prefix, -1 for none. */
  longest(addr: number): number {
    const lengths = this.lengths;
    const masks = this.masks;
    const maps = this.maps;
    for (let i = 0; i < lengths.length; i++) {
      const l = lengths[i]!;
      if (maps[l]!.has((addr & masks[i]!) >>> 0)) return l;
    }
    return -1;
  }
  /** Every matching prefix, longest first: the sum of their lengths (what a walk touches). */
  walk(addr: number): number {
    let sum = 0;
    const lengths = this.lengths;
    const masks = this.masks;
    for (let i = 0; i < lengths.length; i++) {
      const l = lengths[i]!;
      if (this.maps[l]!.has((addr & masks[i]!) >>> 0)) sum += l + 1;
    }
    return sum;
  }
}

function buildNaive(path: string): NaiveLpm {
  const naive = new NaiveLpm();
  forEachRoute(path, (net, len, v) => naive.add(net, len, v));
  naive.build();
  return naive;
}

// ---------------------------------------------------------------------------
// Measuring, in a fresh process per structure (so that neither the generator's
// garbage nor the other structure shows in its memory figures)

const MB = 1024 * 1024;

function memory(): { rss: number; heapUsed: number; arrayBuffers: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / MB, heapUsed: m.heapUsed / MB, arrayBuffers: m.arrayBuffers / MB };
}

/** Lookup addresses: even ones inside a random route (random host bits), odd ones uniform over the space. */
function lookupAddresses(count: number, nets: Uint32Array, lens: Uint8Array, seed: number): Uint32Array {
  const rnd = prng(seed ^ 0x27d4eb2f);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    if (i & 1) {
      out[i] = rnd();
    } else {
      const p = rnd() % nets.length;
      out[i] = (nets[p]! | (rnd() & ~ipv4Mask(lens[p]!))) >>> 0;
    }
  }
  return out;
}

function readAddrs(path: string): Uint32Array {
  const buf = readFileSync(path);
  const out = new Uint32Array(buf.length >>> 2);
  new Uint8Array(out.buffer).set(buf.subarray(0, out.length * 4));
  return out;
}

function timeIt(fn: () => number): { seconds: number; check: number } {
  const t0 = performance.now();
  const check = fn();
  return { seconds: (performance.now() - t0) / 1000, check };
}

interface ChildResult {
  buildSeconds: number;
  phases: typeof phases;
  size: number;
  chunks: number;
  mem0: { rss: number; heapUsed: number; arrayBuffers: number };
  mem1: { rss: number; heapUsed: number; arrayBuffers: number };
  peakRss: number;
  lookups: number;
  longestSeconds: number;
  walkSeconds: number;
  matches: number;
  /** over the first `checked` addresses: Σ (length+1) of the longest match, and of every match */
  checked: number;
  longestCheck: number;
  walkCheck: number;
}

function longestLoop(lpm: Lpm4<Value>, addrs: Uint32Array): number {
  let check = 0;
  for (let i = 0; i < addrs.length; i++) check = (check + lpm.longest(addrs[i]!)) | 0;
  return check;
}

function walkLoop(lpm: Lpm4<Value>, addrs: Uint32Array): number {
  let matches = 0;
  for (let i = 0; i < addrs.length; i++) {
    for (let id = lpm.longest(addrs[i]!); id >= 0; id = lpm.parent(id)) matches++;
  }
  return matches;
}

function childLpm(dump: string, addrsPath: string, checked: number): ChildResult {
  const mem0 = memory();
  const t = performance.now();
  const lpm = buildLpm(dump);
  const buildSeconds = (performance.now() - t) / 1000;
  const mem1 = memory();
  const peakRss = process.resourceUsage().maxRSS / 1024;
  const addrs = readAddrs(addrsPath);
  // Warm the JIT up on a slice, then time the whole set.
  longestLoop(lpm, addrs.subarray(0, 200000));
  walkLoop(lpm, addrs.subarray(0, 200000));
  const lo = timeIt(() => longestLoop(lpm, addrs));
  const wa = timeIt(() => walkLoop(lpm, addrs));
  let longestCheck = 0;
  let walkCheck = 0;
  for (let i = 0; i < checked; i++) {
    const id = lpm.longest(addrs[i]!);
    if (id >= 0) longestCheck = (longestCheck + lpm.lengthOf(id) + 1) | 0;
    for (let j = id; j >= 0; j = lpm.parent(j)) walkCheck = (walkCheck + lpm.lengthOf(j) + 1) | 0;
  }
  return {
    buildSeconds,
    phases: { ...phases },
    size: lpm.size,
    chunks: lpm.chunkCount,
    mem0,
    mem1,
    peakRss,
    lookups: addrs.length,
    longestSeconds: lo.seconds,
    walkSeconds: wa.seconds,
    matches: wa.check,
    checked,
    longestCheck,
    walkCheck,
  };
}

function childNaive(dump: string, addrsPath: string, count: number): ChildResult {
  const mem0 = memory();
  const t = performance.now();
  const naive = buildNaive(dump);
  const buildSeconds = (performance.now() - t) / 1000;
  const mem1 = memory();
  const peakRss = process.resourceUsage().maxRSS / 1024;
  const addrs = readAddrs(addrsPath).subarray(0, count);
  const longest = (a: Uint32Array): number => {
    let check = 0;
    for (let i = 0; i < a.length; i++) check = (check + naive.longest(a[i]!) + 1) | 0;
    return check;
  };
  const walk = (a: Uint32Array): number => {
    let check = 0;
    for (let i = 0; i < a.length; i++) check = (check + naive.walk(a[i]!)) | 0;
    return check;
  };
  longest(addrs.subarray(0, 100000));
  walk(addrs.subarray(0, 100000));
  const lo = timeIt(() => longest(addrs));
  const wa = timeIt(() => walk(addrs));
  let size = 0;
  for (const m of naive.maps) size += m.size;
  return {
    buildSeconds,
    phases: { ...phases },
    size,
    chunks: 0,
    mem0,
    mem1,
    peakRss,
    lookups: addrs.length,
    longestSeconds: lo.seconds,
    walkSeconds: wa.seconds,
    matches: 0,
    checked: addrs.length,
    longestCheck: lo.check,
    walkCheck: wa.check,
  };
}

/** Lpm6 (hash per length) on a seeded IPv6 table: mostly /32…/48, some /29…/31 and /49…/64, a few /128. */
function childLpm6(
  count: number,
  lookups: number,
): { buildSeconds: number; size: number; longestPerSec: number; walkPerSec: number; heapUsedPlusArrayBuffersMB: number } {
  const rnd = prng(SEED ^ 0x6a09e667);
  const r128 = (): bigint => (BigInt(rnd()) << 96n) | (BigInt(rnd()) << 64n) | (BigInt(rnd()) << 32n) | BigInt(rnd());
  const all = (1n << 128n) - 1n;
  const mask = (len: number): bigint => (len === 0 ? 0n : (all >> BigInt(128 - len)) << BigInt(128 - len));
  const lensPick = [29, 32, 32, 36, 40, 44, 48, 48, 48, 48, 48, 48, 56, 64, 128, 31];
  const nets: bigint[] = [];
  const lens: number[] = [];
  // Global unicast 2000::/3, clustered under a few thousand /24…/32 "registries".
  const sites = Array.from({ length: Math.max(1, count >> 5) }, () => ((r128() >> 3n) | (1n << 125n)) & mask(24 + (rnd() % 9)));
  for (let i = 0; i < count; i++) {
    const len = lensPick[rnd() % lensPick.length]!;
    nets.push((sites[rnd() % sites.length]! | (r128() >> 24n)) & mask(len));
    lens.push(len);
  }
  const mem0 = memory();
  let t = performance.now();
  const lpm = new Lpm6<number>();
  for (let i = 0; i < count; i++) lpm.add(nets[i]!, lens[i]!, i);
  lpm.build();
  const buildSeconds = (performance.now() - t) / 1000;
  const mem1 = memory();
  const addrs: bigint[] = [];
  for (let i = 0; i < lookups; i++) {
    if (i & 1) addrs.push(r128());
    else {
      const k = rnd() % count;
      addrs.push(nets[k]! | (r128() & (all ^ mask(lens[k]!))));
    }
  }
  const longest = (a: bigint[]): number => {
    let c = 0;
    for (let i = 0; i < a.length; i++) c = (c + lpm.longest(a[i]!)) | 0;
    return c;
  };
  const walk = (a: bigint[]): number => {
    let c = 0;
    for (let i = 0; i < a.length; i++) for (let id = lpm.longest(a[i]!); id >= 0; id = lpm.parent(id)) c++;
    return c;
  };
  longest(addrs.slice(0, 20000));
  walk(addrs.slice(0, 20000));
  t = performance.now();
  longest(addrs);
  const lo = (performance.now() - t) / 1000;
  t = performance.now();
  walk(addrs);
  const wa = (performance.now() - t) / 1000;
  return {
    buildSeconds: +buildSeconds.toFixed(3),
    size: lpm.size,
    longestPerSec: Math.round(lookups / lo),
    walkPerSec: Math.round(lookups / wa),
    heapUsedPlusArrayBuffersMB: +(mem1.heapUsed + mem1.arrayBuffers - mem0.heapUsed - mem0.arrayBuffers).toFixed(1),
  };
}

function runChild<R = ChildResult>(kind: 'lpm' | 'naive' | 'lpm6', dump: string, addrsPath: string, n: number): R {
  const r = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      kind,
      '--dump',
      dump,
      '--addrs',
      addrsPath,
      '--n',
      String(n),
      '--values',
      VALUES,
      '--parse',
      PARSE,
      '--seed',
      String(SEED),
      '--v6-routes',
      String(V6_ROUTES),
      '--v6-lookups',
      String(V6_LOOKUPS),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`the ${kind} measurement failed (exit ${r.status})`);
  return JSON.parse(line.slice(7)) as R;
}

// ---------------------------------------------------------------------------

function main(): void {
  const child = argValue('child', '');
  if (child) {
    const dump = argValue('dump', '');
    const addrs = argValue('addrs', '');
    const n = Number(argValue('n', '0'));
    const r = child === 'lpm' ? childLpm(dump, addrs, n) : child === 'naive' ? childNaive(dump, addrs, n) : childLpm6(V6_ROUTES, V6_LOOKUPS);
    console.log(`RESULT ${JSON.stringify(r)}`);
    return;
  }

  const dump = join(tmpdir(), `multihome-lpm-bench-${process.pid}.json`);
  const addrsPath = join(tmpdir(), `multihome-lpm-bench-${process.pid}.addrs`);
  const t = performance.now();
  const { nets, lens } = generate(ROUTES, SEED);
  const bytes = writeDump(dump, nets, lens, SEED);
  const addrs = lookupAddresses(LOOKUPS, nets, lens, SEED);
  writeFileSync(addrsPath, new Uint8Array(addrs.buffer));
  const genSeconds = (performance.now() - t) / 1000;
  const byLen = new Array<number>(33).fill(0);
  for (const l of lens) byLen[l]!++;
  const baselineLookups = Math.min(BASELINE_LOOKUPS, LOOKUPS);

  try {
    const a = runChild('lpm', dump, addrsPath, baselineLookups);
    const b = runChild('naive', dump, addrsPath, baselineLookups);
    const v6 = V6_ROUTES > 0 ? runChild<ReturnType<typeof childLpm6>>('lpm6', '', '', 0) : null;
    const agree = a.longestCheck === b.longestCheck && a.walkCheck === b.walkCheck && a.size === b.size;
    const heap = (m: ChildResult['mem0']): number => m.heapUsed + m.arrayBuffers;
    const rate = (n: number, s: number): number => Math.round(n / s);
    const result = {
      bench: 'lpm4',
      command: `node dist/bench/lpm.js ${process.argv.slice(2).join(' ')}`.trim(),
      routes: nets.length,
      prefixes: a.size,
      chunks: a.chunks,
      values: VALUES,
      parse: PARSE,
      dumpMB: +(bytes / MB).toFixed(1),
      lengths: { default: byLen[0], '8-15': sum(byLen, 8, 15), '16-24': sum(byLen, 16, 24), '25-32': sum(byLen, 25, 32) },
      lookups: a.lookups,
      buildSeconds: +a.buildSeconds.toFixed(3),
      buildPhasesSeconds: { read: +a.phases.read.toFixed(3), parseInsert: +a.phases.parseInsert.toFixed(3), freeze: +a.phases.freeze.toFixed(3) },
      longestPerSec: rate(a.lookups, a.longestSeconds),
      walkPerSec: rate(a.lookups, a.walkSeconds),
      avgMatchesPerWalk: +(a.matches / a.lookups).toFixed(2),
      memoryAfterBuildMB: {
        rss: +a.mem1.rss.toFixed(1),
        heapUsedPlusArrayBuffers: +heap(a.mem1).toFixed(1),
        heapUsed: +a.mem1.heapUsed.toFixed(1),
        arrayBuffers: +a.mem1.arrayBuffers.toFixed(1),
        rssBeforeBuild: +a.mem0.rss.toFixed(1),
        heapUsedPlusArrayBuffersBeforeBuild: +heap(a.mem0).toFixed(1),
        peakRssDuringBuild: +a.peakRss.toFixed(1),
      },
      naive: {
        lookups: b.lookups,
        buildSeconds: +b.buildSeconds.toFixed(3),
        longestPerSec: rate(b.lookups, b.longestSeconds),
        walkPerSec: rate(b.lookups, b.walkSeconds),
        rssMB: +b.mem1.rss.toFixed(1),
        heapUsedPlusArrayBuffersMB: +heap(b.mem1).toFixed(1),
        peakRssDuringBuildMB: +b.peakRss.toFixed(1),
      },
      ratio: {
        longest: +(rate(a.lookups, a.longestSeconds) / rate(b.lookups, b.longestSeconds)).toFixed(1),
        walk: +(rate(a.lookups, a.walkSeconds) / rate(b.lookups, b.walkSeconds)).toFixed(1),
        buildTimeNaiveOverLpm: +(b.buildSeconds / a.buildSeconds).toFixed(2),
      },
      resultsAgree: agree,
      lpm6: v6 ? { routes: V6_ROUTES, lookups: V6_LOOKUPS, ...v6 } : null,
      generateSeconds: +genSeconds.toFixed(2),
      machine: { nproc: availableParallelism(), node: process.version, cpu: cpus()[0]?.model ?? '?' },
    };

    console.log(
      `${result.routes} routes (${result.prefixes} prefixes; default ${byLen[0]}, /8-/15 ${result.lengths['8-15']}, /16-/24 ${result.lengths['16-24']}, ` +
        `/25-/32 ${result.lengths['25-32']}; ${result.chunks} chunks), dump ${result.dumpMB} MB, values=${VALUES}, parse=${PARSE}; ` +
        `${a.lookups} lookups (naive: ${b.lookups}), half inside a route, half uniform; ${result.avgMatchesPerWalk} matches per walk`,
    );
    const rows: string[][] = [
      ['', 'Lpm4 (DIR-24-8)', 'naive (Map per length)', 'Lpm4 vs naive'],
      ['build from the dump (s)', f(a.buildSeconds, 2), f(b.buildSeconds, 2), `${result.ratio.buildTimeNaiveOverLpm}× (naive time / Lpm4 time)`],
      ['longest, lookups/s', fmtRate(result.longestPerSec), fmtRate(result.naive.longestPerSec), `${result.ratio.longest}×`],
      ['full walk, lookups/s', fmtRate(result.walkPerSec), fmtRate(result.naive.walkPerSec), `${result.ratio.walk}×`],
      ['after build: rss (MB)', f(a.mem1.rss, 1), f(b.mem1.rss, 1), ''],
      ['after build: heapUsed+arrayBuffers (MB)', f(heap(a.mem1), 1), f(heap(b.mem1), 1), ''],
      ['peak rss during build (MB)', f(a.peakRss, 1), f(b.peakRss, 1), ''],
    ];
    const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows)
      console.log(
        r
          .map((c, i) => (i === 0 || i === 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
          .join('  ')
          .trimEnd(),
      );
    console.log(
      `Lpm4 build phases: read ${f(a.phases.read, 2)} s, JSON.parse + parse dst + add ${f(a.phases.parseInsert, 2)} s, build() ${f(a.phases.freeze, 2)} s`,
    );
    console.log(`(a fresh process before build: rss ${f(a.mem0.rss, 1)} MB, heapUsed+arrayBuffers ${f(heap(a.mem0), 1)} MB)`);
    if (v6) {
      console.log(
        `Lpm6 (hash per length, number keys up to /52), ${V6_ROUTES} random routes (${v6.size} prefixes), ${V6_LOOKUPS} lookups: build ${f(v6.buildSeconds, 2)} s (in memory), ` +
          `longest ${fmtRate(v6.longestPerSec)}/s, full walk ${fmtRate(v6.walkPerSec)}/s, heapUsed+arrayBuffers +${v6.heapUsedPlusArrayBuffersMB} MB`,
      );
    }
    console.log(`results agree with the baseline on ${b.lookups} addresses: ${agree ? 'yes' : 'NO'}`);
    console.log(`JSON ${JSON.stringify(result)}`);
    if (!agree) process.exitCode = 1;
  } finally {
    if (KEEP) console.log(`dump kept at ${dump}, addresses at ${addrsPath}`);
    else {
      rmSync(dump, { force: true });
      rmSync(addrsPath, { force: true });
    }
  }
}

function sum(a: number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i <= to; i++) s += a[i]!;
  return s;
}
const f = (x: number, d: number): string => x.toFixed(d);
const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

main();
