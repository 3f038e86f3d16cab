// The route copier: keeps every provider table with `routes: copy` equal to
// main (filtered, see filter.ts), live. It holds main's copyable routes in a
// RouteSet per family (compact, see store.ts) and
//   - resyncs in full at start and every `copy.check`: a dump of main, then a
//     dump of the copy tables compared against it as it streams; missing or
//     changed copies are written, stale ones (carrying the copy protocol, no
//     longer in main) deleted; every difference found after the first sync is
//     drift and is reported;
//   - follows main's route events: an add, replace or delete in main is
//     mirrored into every copy table, the events of one read coalesced into one
//     batch of writes (the lag is the time from the event to the kernel's ACK);
//   - never fights another tool: a route in a copy table that is not the
//     copier's (another protocol) is reported and left alone, and its key is
//     not written while it is there;
//   - buffers events while a resync runs and replays them after it (in order,
//     so the last word on a key wins); when the kernel dropped events (its
//     buffer overflowed) it resyncs again.
// I/O comes through the port (src/kernel/rtnetlink.ts in the daemon, a fake in
// the unit tests); the logic here is pure bookkeeping over buffers.
import { decodeRoute, encodeRoute, messageType, NLM_F, nextMessage, RTM, valueDevices, valueHasGateway, type DecodedRoute, type RouteKey } from './codec.js';
import type { CopyFilter } from './filter.js';
import { formatKey, RouteSet, ValuePool } from './store.js';
import { REHEARSAL_TURN, rehearsalEvents } from './warmup.js';

export interface CopyPort {
  /** dump every route of a family (all tables) */
  dump(family: 4 | 6, onRoute: (buf: Buffer, off: number) => void): Promise<{ interrupted: boolean }>;
  /**
   * send a datagram of route messages whose last one asks for an ACK; the errors come back.
   * `dry` (the rehearsal after the first resync, see warmup.ts): send nothing, no errors.
   */
  write(datagram: Buffer, ackSeq: number, dry?: boolean): Promise<{ seq: number; errno: number }[]>;
  /**
   * Stop / restart listening to route events around a bulk write: every copy written is
   * echoed to every listener, and a million echoes overflow any receive buffer (the
   * `netlink` addon ends the process on that overflow). What main did meanwhile is read
   * by a second dump after `resumeEvents`.
   */
  pauseEvents?(): void;
  resumeEvents?(): Promise<void>;
}

/** Writes above this many in one resync are done with the event socket closed (see pauseEvents). */
const BULK_WRITES = 4096;

export interface CopyTable {
  /** provider name, for reports */
  provider: string;
  table: number;
  families: (4 | 6)[];
}

export interface CopyOptions {
  tables: CopyTable[];
  /** the protocol copies carry */
  protocol: number;
  /** multihome's own route protocol (its provider default routes live in the same tables) */
  ownProtocol: number;
  filter: CopyFilter;
  log: (event: Record<string, unknown>) => void;
  /** after the first resync, rehearse the live path with writes going nowhere (warmup.ts): the daemon */
  rehearse?: boolean;
  /** progress of a resync: phase, done, total (total 0 when unknown) */
  progress?: (phase: string, done: number, total: number) => void;
  now?: () => number;
}

export interface ForeignRoute {
  table: number;
  route: string;
  protocol: number;
}

export interface CopyStatus {
  tables: { provider: string; table: number }[];
  /** copyable routes in main now */
  mainRoutes: { 4: number; 6: number };
  /** distinct route values held (how many ways of forwarding main's routes use) */
  values: number;
  /** bytes the route sets' arrays hold */
  bytes: number;
  resyncs: number;
  lastResync: { at: string; ms: number; added: number; replaced: number; deleted: number; drift: boolean } | null;
  /** differences a resync found after the first one (routes changed behind the copier's back) */
  driftRepaired: number;
  eventsApplied: number;
  writeErrors: number;
  lastWriteError: string | null;
  /** lag of the last batch: ms from its first event to the kernel's ACK */
  lastLagMs: number | null;
  foreign: ForeignRoute[];
  syncing: boolean;
}

interface Write {
  op: 'replace' | 'delete';
  key: RouteKey;
  value: number;
  table: number;
}

const ERRNO: Record<number, string> = { 2: 'ENOENT', 3: 'ESRCH', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 101: 'ENETUNREACH', 113: 'EHOSTUNREACH' };
const DATAGRAM = 64 << 10;
/** foreign routes listed in the status (all are counted in the logs) */
const FOREIGN_LIST = 100;

const keyId = (table: number, k: RouteKey) => `${table} ${formatKey(k)}`;

export class RouteCopier {
  private readonly pool = new ValuePool();
  private readonly main: { 4: RouteSet; 6: RouteSet } = { 4: new RouteSet(4), 6: new RouteSet(6) };
  private readonly copyTables: Map<number, CopyTable>;
  /** the copy tables of each family (a plain array: enqueueAll runs for every event) */
  private readonly tablesOf: { 4: number[]; 6: number[] };
  /** foreign routes per table, by key text */
  private readonly foreign = new Map<number, Map<string, ForeignRoute>>();
  private readonly now: () => number;
  private seq = 1;
  private resyncing: Promise<void> | null = null;
  private again = false;
  private readonly pendingEvents: Buffer[] = [];
  private readonly pendingLinkDowns: number[] = [];
  private queue: Write[] = [];
  private queueSince = 0;
  private flushing: Promise<void> | null = null;
  private synced = false;
  private stopped = false;
  /** the rehearsal runs: writes go nowhere */
  private dry = false;
  private rehearsed = false;
  private readonly st: CopyStatus;

  constructor(
    private readonly port: CopyPort,
    private readonly o: CopyOptions,
  ) {
    this.copyTables = new Map(o.tables.map((t) => [t.table, t]));
    this.tablesOf = { 4: tablesWith(o.tables, 4), 6: tablesWith(o.tables, 6) };
    this.now = o.now ?? Date.now;
    this.st = {
      tables: o.tables.map((t) => ({ provider: t.provider, table: t.table })),
      mainRoutes: { 4: 0, 6: 0 },
      values: 0,
      bytes: 0,
      resyncs: 0,
      lastResync: null,
      driftRepaired: 0,
      eventsApplied: 0,
      writeErrors: 0,
      lastWriteError: null,
      lastLagMs: null,
      foreign: [],
      syncing: false,
    };
  }

  status(): CopyStatus {
    const foreign = [...this.foreign.values()].flatMap((m) => [...m.values()]).slice(0, FOREIGN_LIST);
    return {
      ...this.st,
      mainRoutes: { 4: this.main[4].size, 6: this.main[6].size },
      values: this.pool.size,
      bytes: this.main[4].bytes + this.main[6].bytes,
      foreign,
      syncing: this.resyncing !== null,
    };
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves once every write queued so far has been written. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** A full resync (coalesced: a request while one runs makes one more run after it). */
  resync(why: string): Promise<void> {
    if (this.resyncing) {
      this.again = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      try {
        do {
          this.again = false;
          await this.fullResync(why);
          if (this.o.rehearse && !this.rehearsed) await this.rehearse();
          why = 'events arrived that the last resync could not account for';
        } while (this.again && !this.stopped);
      } finally {
        this.resyncing = null;
        // the events that arrived meanwhile, in order (also after a failed resync: the next
        // one must not find older events still waiting), then the devices that went down
        const events = this.pendingEvents.splice(0);
        for (const b of events) this.onDatagram(b);
        for (const i of this.pendingLinkDowns.splice(0)) this.onLinkDown(i);
      }
    })();
    return this.resyncing;
  }

  /** Events were lost (the kernel's buffer overflowed): only a resync can tell what changed. */
  onOverflow(why: string): void {
    this.o.log({ event: 'copy-overflow', why });
    void this.resync(why).catch((e: unknown) => this.o.log({ event: 'error', during: 'copy resync', error: e instanceof Error ? e.message : String(e) }));
  }

  /** One datagram from the route event socket (`rehearsal`: the rehearsal's own, which passes while the others wait). */
  onDatagram(buf: Buffer, rehearsal = false): void {
    if (this.stopped) return;
    if (this.resyncing && !rehearsal) {
      this.pendingEvents.push(buf);
      return;
    }
    for (let off = 0, next; (next = nextMessage(buf, off)) > 0; off = next) {
      const type = messageType(buf, off);
      if (type !== RTM.NEWROUTE && type !== RTM.DELROUTE) continue;
      const r = decodeRoute(buf, off);
      if (r) this.onRouteEvent(type === RTM.NEWROUTE ? 'new' : 'del', r);
    }
    this.scheduleFlush();
  }

  /**
   * Synthetic adds and deletes of main (warmup.ts) through the live path of this very
   * instance, its writes going nowhere (`dry`), inside the first resync: live events wait
   * meanwhile, so the queue holds only the rehearsal's writes. Main's set, the values, the
   * counters and the tables are as they were after it, also when stopped in the middle.
   */
  private async rehearse(): Promise<void> {
    this.rehearsed = true;
    // a flush of events heard before the first resync began writes for real: let it end first
    await this.idle();
    const events = this.rehearsalEvents();
    if (!events) return;
    const { set, adds, deletes } = events;
    const kept = { eventsApplied: this.st.eventsApplied, lastLagMs: this.st.lastLagMs };
    this.dry = true;
    try {
      // as events arrive in a burst, some hundreds per turn of the event loop, flushed
      // meanwhile; adds and their deletes in turn, so that main's set never holds more than
      // one turn of them
      for (let i = 0; i < adds.length && !this.stopped; i += REHEARSAL_TURN) {
        for (const b of adds.slice(i, i + REHEARSAL_TURN)) this.onDatagram(b, true);
        await new Promise((r) => setImmediate(r));
        for (const b of deletes.slice(i, i + REHEARSAL_TURN)) this.onDatagram(b, true);
        await new Promise((r) => setImmediate(r));
      }
      await this.idle();
    } finally {
      // never a synthetic write to the kernel, even if a flush was cut short; no synthetic
      // key left in main (stopped between adds and their deletes; a live event for one of
      // these keys waits in pendingEvents, applied after this)
      this.queue = [];
      this.dry = false;
      for (const b of adds) set.delete(decodeRoute(b, 0)!);
      Object.assign(this.st, kept);
    }
  }

  /**
   * The rehearsal's events: of the family main has routes of (IPv4 first), with the value of
   * one of them, of a protocol the filter copies; null when there is none such.
   */
  private rehearsalEvents(): { set: RouteSet; adds: Buffer[]; deletes: Buffer[] } | null {
    for (const f of [4, 6] as const) {
      const set = this.main[f];
      const first = set.slots().next();
      if (first.done || this.tablesOf[f].length === 0) continue;
      const value = this.pool.value(set.valueAt(first.value));
      // by hand, static, BGP, the kernel's: the first one copy.exclude.protocols does not name
      for (const protocol of [3, 4, 186, 2]) {
        const probe = rehearsalEvents(value, () => true, { n: 1, family: f, protocol }).adds[0];
        const r = probe && decodeRoute(probe, 0);
        if (!r || !this.o.filter(r) || r.value !== value) continue;
        return { set, ...rehearsalEvents(value, (k) => set.get(k) < 0, { family: f, protocol }) };
      }
    }
    return null;
  }

  /** A device went away or down: the kernel dropped its routes from every table without an event per route. */
  onLinkDown(ifindex: number): void {
    // a resync walks the route sets slot by slot: no deletions under it
    if (this.resyncing) {
      this.pendingLinkDowns.push(ifindex);
      return;
    }
    let dropped = 0;
    const uses = new Set<number>();
    for (let id = 0; id < this.pool.size; id++) if (valueUses(this.pool.value(id), ifindex)) uses.add(id);
    if (uses.size === 0) return;
    for (const f of [4, 6] as const) {
      const set = this.main[f];
      const gone: RouteKey[] = [];
      for (const s of set.slots()) if (uses.has(set.valueAt(s))) gone.push(set.keyAt(s));
      for (const k of gone) set.delete(k);
      dropped += gone.length;
    }
    this.o.log({ event: 'copy-link-down', ifindex, dropped });
  }

  private onRouteEvent(kind: 'new' | 'del', r: DecodedRoute): void {
    // the decoded route is the key of its writes (its dst a view into the event, which
    // nothing writes to again): no copy per event
    const key: RouteKey = r;
    if (r.table === 254) {
      this.st.eventsApplied++;
      const set = this.main[r.family];
      if (kind === 'new' && this.o.filter(r)) {
        const v = this.pool.intern(r.value);
        if (set.set(key, v) !== 'same') this.enqueueAll('replace', key, v);
      } else if (set.delete(key)) {
        // deleted from main, or replaced by a route that is not copied
        this.enqueueAll('delete', key, -1);
      }
      return;
    }
    if (!this.copyTables.has(r.table)) return;
    if (r.protocol === this.o.protocol || r.protocol === this.o.ownProtocol) return; // ours (or the echo of our own write)
    // another tool's route in a copy table: report it and keep off its key
    const id = keyId(r.table, key);
    const known = this.foreign.get(r.table) ?? new Map<string, ForeignRoute>();
    this.foreign.set(r.table, known);
    if (kind === 'new') {
      if (!known.has(id)) {
        const f = { table: r.table, route: formatKey(key), protocol: r.protocol };
        known.set(id, f);
        this.o.log({ event: 'copy-foreign-route', ...f, action: 'left alone; its key is not copied while it is there' });
      }
    } else if (known.delete(id)) {
      const v = this.main[r.family].get(key);
      if (v >= 0) this.enqueue({ op: 'replace', key, value: v, table: r.table });
    }
  }

  private enqueueAll(op: 'replace' | 'delete', key: RouteKey, value: number): void {
    const tables = this.tablesOf[key.family];
    for (let i = 0; i < tables.length; i++) this.enqueue({ op, key, value, table: tables[i]! });
  }

  private enqueue(w: Write): void {
    if (this.foreign.get(w.table)?.has(keyId(w.table, w.key))) return;
    if (this.queue.length === 0) this.queueSince = this.now();
    this.queue.push(w);
  }

  private scheduleFlush(): void {
    // stopped: what is queued stays unwritten (a flush rescheduling itself for it would spin)
    if (this.flushing || this.queue.length === 0 || this.stopped) return;
    this.flushing = (async () => {
      // let the rest of a burst that is already readable arrive first: one batch for all of it
      await new Promise((r) => setImmediate(r));
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue;
        const since = this.queueSince;
        this.queue = [];
        await this.writeAll(batch, undefined, 0, true);
        this.st.lastLagMs = this.now() - since;
      }
    })()
      .catch((e: unknown) => {
        // what the failed datagrams did is unknown (the kernel may have applied some): only a
        // resync can tell; the writes still queued are covered by it too
        const error = e instanceof Error ? e.message : String(e);
        this.o.log({ event: 'error', during: 'copy', error });
        this.queue = [];
        if (!this.stopped)
          void this.resync(`a write failed: ${error}`).catch((r: unknown) =>
            this.o.log({ event: 'error', during: 'copy resync', error: r instanceof Error ? r.message : String(r) }),
          );
      })
      .finally(() => {
        this.flushing = null;
        if (this.queue.length > 0) this.scheduleFlush();
      });
  }

  /** Write in datagrams of up to 64 KiB, each acknowledged once; returns the number of errors. */
  private async writeAll(ws: Iterable<Write>, phase?: string, total = 0, live = false): Promise<number> {
    const buf = Buffer.allocUnsafe(DATAGRAM);
    let off = 0;
    let lastOff = 0;
    let first = this.seq;
    let errors = 0;
    let done = 0;
    const inflight: Promise<void>[] = [];
    const send = () => {
      if (off === 0) return;
      const from = first;
      const last = this.seq - 1;
      // the last message asks for the ACK that closes the datagram
      buf.writeUInt16LE(buf.readUInt16LE(lastOff + 6) | NLM_F.ACK, lastOff + 6);
      const dgram = Buffer.from(buf.subarray(0, off));
      inflight.push(
        this.port.write(dgram, last, this.dry).then((errs) => {
          done += last - from + 1;
          if (phase) this.o.progress?.(phase, done, total);
          for (const e of errs) {
            // the failed write, read back from the datagram (errors are rare: no record of every write)
            const w = sentWrite(dgram, e.seq);
            // deleting a copy that is already gone is what was wanted
            if (w?.op === 'delete' && (e.errno === 3 || e.errno === 2)) continue;
            errors++;
            this.st.writeErrors++;
            this.st.lastWriteError = `${w ? `${w.op} ${formatKey(w.key)} table ${w.table}` : `message ${e.seq}`}: ${ERRNO[e.errno] ?? `errno ${e.errno}`}`;
          }
        }),
      );
      off = 0;
      first = this.seq;
    };
    const encode = (w: Write, at: number) =>
      encodeRoute(buf, at, w.op, w.key, w.op === 'replace' ? this.pool.value(w.value) : null, w.table, this.o.protocol, this.seq);
    for (const w of ws) {
      let next = encode(w, off);
      if (next < 0) {
        send();
        // a few datagrams in flight at most: the kernel handles each in sendmsg, the ACKs queue behind
        if (live) {
          // live: one datagram at a time, and the event socket read before the next one, so
          // the echoes of these writes never pile up in its buffer
          await Promise.all(inflight.splice(0));
          await new Promise((r) => setImmediate(r));
        } else if (inflight.length >= 4) await Promise.all(inflight.splice(0, inflight.length - 2));
        next = encode(w, 0);
      }
      this.seq++;
      lastOff = off;
      off = next;
    }
    send();
    await Promise.all(inflight);
    if (errors > 0) this.o.log({ event: 'copy-write-errors', errors, last: this.st.lastWriteError });
    return errors;
  }

  /** Main's copyable routes of one family, from a dump. */
  private async readMain(f: 4 | 6): Promise<RouteSet> {
    const fresh = new RouteSet(f, Math.max(1024, this.main[f].size));
    let seen = 0;
    await this.port.dump(f, (buf, off) => {
      if (tableByte(buf, off) !== 254 && tableByte(buf, off) !== 252) return;
      const r = decodeRoute(buf, off);
      if (!r || r.table !== 254 || !this.o.filter(r)) return;
      fresh.set(r, this.pool.intern(r.value));
      if (++seen % 65_536 === 0) this.o.progress?.(`reading main (IPv${f})`, seen, 0);
    });
    return fresh;
  }

  private foreignNowHas(m: Map<number, Map<string, ForeignRoute>>, w: Write): boolean {
    return m.get(w.table)?.has(keyId(w.table, w.key)) ?? false;
  }

  private async fullResync(why: string): Promise<void> {
    const t0 = this.now();
    const families = [...new Set(this.o.tables.flatMap((t) => t.families))].sort();
    let added = 0;
    let replaced = 0;
    let deleted = 0;
    const foreignNow = new Map<number, Map<string, ForeignRoute>>();
    for (const f of families) {
      // 1. main, as the kernel has it now
      const fresh = await this.readMain(f);
      this.main[f] = fresh;
      // 2. the copy tables, compared with it as they stream: stale and changed copies
      const tables = this.tablesOf[f];
      const marks = new Map(tables.map((t) => [t, new Uint8Array(fresh.capacity)]));
      const marked = new Map(tables.map((t) => [t, 0]));
      const fixes: Write[] = [];
      await this.port.dump(f, (buf, off) => {
        const tb = tableByte(buf, off);
        if (!marks.has(tb) && tb !== 252) return;
        const r = decodeRoute(buf, off);
        if (!r || !marks.has(r.table) || r.cloned || r.protocol === this.o.ownProtocol) return;
        const mark = marks.get(r.table)!;
        const slot = fresh.slotOf(r);
        if (r.protocol !== this.o.protocol) {
          // another tool's route: reported, and its key is not ours to write
          const key = keyOf(r);
          const m = foreignNow.get(r.table) ?? new Map<string, ForeignRoute>();
          foreignNow.set(r.table, m);
          m.set(keyId(r.table, key), { table: r.table, route: formatKey(key), protocol: r.protocol });
        } else if (slot < 0) {
          fixes.push({ op: 'delete', key: keyOf(r), value: -1, table: r.table });
          deleted++;
        } else if (this.pool.value(fresh.valueAt(slot)) !== r.value) {
          fixes.push({ op: 'replace', key: keyOf(r), value: fresh.valueAt(slot), table: r.table });
          replaced++;
        }
        if (slot >= 0 && !mark[slot]) {
          mark[slot] = 1;
          marked.set(r.table, marked.get(r.table)! + 1);
        }
      });
      // 3. what main has and a table lacks, streamed from the set (no object per route);
      //    routes without a gateway first: the kernel checks a gateway against the table's routes
      let missing = 0;
      for (const t of tables) missing += fresh.size - marked.get(t)!;
      added += missing;
      const pool = this.pool;
      function* lacking(): Generator<Write> {
        yield* fixes;
        for (const gw of [false, true]) {
          for (const [table, mark] of marks) {
            for (const s of fresh.slots()) {
              if (mark[s] || valueHasGatewayCached(pool, fresh.valueAt(s)) !== gw) continue;
              yield { op: 'replace', key: fresh.keyAt(s), value: fresh.valueAt(s), table };
            }
          }
        }
      }
      const bulk = fixes.length + missing > BULK_WRITES && this.port.pauseEvents !== undefined;
      if (bulk) {
        this.port.pauseEvents!();
        // the dump after the pause supersedes what was heard before it
        this.pendingEvents.length = 0;
        this.pendingLinkDowns.length = 0;
      }
      try {
        if (fixes.length + missing > 0) await this.writeAll(lacking(), `copying IPv${f} routes`, fixes.length + missing);
      } finally {
        if (bulk) await this.port.resumeEvents!();
      }
      if (bulk) {
        // 4. what main did while nobody listened: a second dump of every family, the differences written
        for (const g of families) await this.catchUp(g, foreignNow);
      }
    }
    this.finishResync(why, t0, added, replaced, deleted, foreignNow);
  }

  /** After writing with events paused: main read again, its changes meanwhile written to the tables. */
  private async catchUp(f: 4 | 6, foreignNow: Map<number, Map<string, ForeignRoute>>): Promise<void> {
    const tables = this.tablesOf[f];
    const fresh = this.main[f];
    {
      {
        const later = await this.readMain(f);
        const changes: Write[] = [];
        for (const s2 of later.slots()) {
          const key = later.keyAt(s2);
          const v = later.valueAt(s2);
          if (fresh.get(key) !== v) for (const t of tables) changes.push({ op: 'replace', key, value: v, table: t });
        }
        for (const s1 of fresh.slots()) {
          const key = fresh.keyAt(s1);
          if (later.get(key) < 0) for (const t of tables) changes.push({ op: 'delete', key, value: -1, table: t });
        }
        this.main[f] = later;
        const kept = changes.filter((w) => !this.foreignNowHas(foreignNow, w));
        if (kept.length) await this.writeAll(kept, `copying IPv${f} routes`, kept.length);
        this.st.eventsApplied += kept.length;
      }
    }
  }

  private finishResync(why: string, t0: number, added: number, replaced: number, deleted: number, foreignNow: Map<number, Map<string, ForeignRoute>>): void {
    // foreign routes: report the new ones
    for (const [table, m] of foreignNow) {
      const before = this.foreign.get(table);
      const fresh = [...m.entries()].filter(([id]) => !before?.has(id)).map(([, x]) => `${x.route} proto ${x.protocol}`);
      if (fresh.length) this.o.log({ event: 'copy-foreign-routes', table, count: m.size, routes: fresh.slice(0, 20), action: 'left alone' });
    }
    this.foreign.clear();
    for (const [t, m] of foreignNow) this.foreign.set(t, m);
    const ms = this.now() - t0;
    const drift = this.synced && added + replaced + deleted > 0;
    if (drift) this.st.driftRepaired += added + replaced + deleted;
    this.st.resyncs++;
    this.st.lastResync = { at: new Date(this.now()).toISOString(), ms, added, replaced, deleted, drift };
    this.o.log({
      event: drift ? 'copy-drift-repaired' : 'copy-resync',
      why,
      ms,
      added,
      replaced,
      deleted,
      main: { 4: this.main[4].size, 6: this.main[6].size },
    });
    this.synced = true;
  }
}

const tablesWith = (tables: CopyTable[], f: 4 | 6): number[] => tables.filter((t) => t.families.includes(f)).map((t) => t.table);

/** The write with sequence number `seq` in a datagram the copier sent (op, key and table), or null. */
function sentWrite(dgram: Buffer, seq: number): { op: 'replace' | 'delete'; key: RouteKey; table: number } | null {
  for (let off = 0, next; (next = nextMessage(dgram, off)) > 0; off = next) {
    if (dgram.readUInt32LE(off + 8) !== seq) continue;
    const r = decodeRoute(dgram, off);
    return r && { op: messageType(dgram, off) === RTM.DELROUTE ? 'delete' : 'replace', key: keyOf(r), table: r.table };
  }
  return null;
}

/** rtm_table of a route message (252 when the table id is ≥ 256 and in RTA_TABLE). */
const tableByte = (buf: Buffer, off: number): number => buf[off + 16 + 4]!;

const keyOf = (r: DecodedRoute): RouteKey => ({ family: r.family, dst: Uint8Array.from(r.dst), len: r.len, tos: r.tos, metric: r.metric });

const gatewayCache = new WeakMap<ValuePool, Map<number, boolean>>();
function valueHasGatewayCached(pool: ValuePool, id: number): boolean {
  let m = gatewayCache.get(pool);
  if (!m) gatewayCache.set(pool, (m = new Map<number, boolean>()));
  let v = m.get(id);
  if (v === undefined) m.set(id, (v = valueHasGateway(pool.value(id))));
  return v;
}

function valueUses(value: string, ifindex: number): boolean {
  return valueDevices(value).includes(ifindex);
}
