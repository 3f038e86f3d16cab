// Wiring of the route copier (src/routecopy/) to the kernel: the netlink
// sockets of src/kernel/rtnetlink.ts, link events for devices going down, the
// exclusion of devices by name, and the periodic check. In apply/ (not daemon/) because both use it: used by the daemon
// (live) and by `multihome routes sync` (one resync, e.g. from `apply`).
// Runs in this process's network namespace.
import type { ResolvedConfig } from '../config/assign.js';
import { readLinks } from '../kernel/read.js';
import { dumpRoutes, followRoutesIsolated, RouteWriter } from '../kernel/rtnetlink.js';
import { linkEvent, messageCount } from '../routecopy/codec.js';
import { EchoPacer } from '../routecopy/pacer.js';
import { RouteCopier, type CopyStatus, type CopyTable } from '../routecopy/engine.js';
import { copyFilter } from '../routecopy/filter.js';
import type { ExecOptions } from '../kernel/exec.js';

/**
 * `MULTIHOME_COPY_REHEARSAL=0` in the daemon's environment: no rehearsal after the first
 * resync (routecopy/warmup.ts). For bench/route-copy.ts, which measures with and without.
 */
export const REHEARSAL_ENV = 'MULTIHOME_COPY_REHEARSAL';

export interface RouteCopyHandle {
  status(): CopyStatus;
  /** a full resync now (what the periodic check does) */
  resync(why: string): Promise<void>;
  stop(): void;
}

/** The provider tables that copy main, with the families their providers carry. */
export function copyTablesOf(cfg: ResolvedConfig): CopyTable[] {
  return Object.values(cfg.providers)
    .filter((p) => p.routes === 'copy')
    .map((p) => ({ provider: p.name, table: p.table, families: ([4, 6] as const).filter((f) => p.gateway[f]) }))
    .filter((t) => t.families.length > 0);
}

export interface RouteCopyOptions {
  log: (event: Record<string, unknown>) => void;
  progress?: (phase: string, done: number, total: number) => void;
  /** follow main's changes and check periodically (the daemon); false: one resync and done */
  live: boolean;
  exec?: ExecOptions;
}

/** Start copying; resolves once the first full resync is done. */
export async function startRouteCopy(cfg: ResolvedConfig, o: RouteCopyOptions): Promise<RouteCopyHandle> {
  const tables = copyTablesOf(cfg);
  const excludedNames = new Set(cfg.copy.exclude.devices ?? []);
  const excluded = new Set<number>();
  if (excludedNames.size > 0) for (const l of await readLinks(o.exec)) if (excludedNames.has(l.name)) excluded.add(l.index);
  const writer = new RouteWriter();
  // live: writes wait for the listener to read their echoes (see pacer.ts)
  const pacer = new EchoPacer();
  let events: { close(): void } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const onDatagram = (buf: Buffer) => {
    for (const l of linkEvent(buf)) {
      if (l.name !== undefined && excludedNames.has(l.name) && !excluded.has(l.index)) {
        excluded.add(l.index);
        void copier.resync(`excluded device ${l.name} appeared`);
      }
      if (!l.up) copier.onLinkDown(l.index);
    }
    copier.onDatagram(buf);
  };
  // The listener runs in a process of its own (see followRoutesIsolated); when it ends,
  // events were lost: a new one, then a resync.
  const listen = async (): Promise<void> => {
    events = await followRoutesIsolated(
      cfg.copy.protocol,
      onDatagram,
      (why) => {
        events = null;
        pacer.pause();
        if (stopped) return;
        void listen()
          .then(() => copier.onOverflow(why))
          .catch((e: unknown) => o.log({ event: 'error', during: 'route events', error: e instanceof Error ? e.message : String(e) }));
      },
      (n) => pacer.echoes(n),
    );
    pacer.resume();
  };
  const copier: RouteCopier = new RouteCopier(
    {
      dump: (f, cb) => dumpRoutes(f, cb),
      write: async (d, seq, dry) => {
        if (dry) return []; // the rehearsal (see routecopy/warmup.ts)
        const errors = await writer.send(d, seq);
        if (events) {
          pacer.wrote(messageCount(d) - errors.length);
          await pacer.settle();
        }
        return errors;
      },
      ...(o.live
        ? {
            pauseEvents: () => {
              const e = events;
              events = null;
              pacer.pause();
              e?.close();
            },
            resumeEvents: async () => {
              if (!events && !stopped) await listen();
            },
          }
        : {}),
    },
    {
      tables,
      protocol: cfg.copy.protocol,
      ownProtocol: cfg.route_protocol,
      filter: copyFilter(cfg.copy, excluded),
      log: o.log,
      // the daemon: its first burst of changes is to be copied as fast as the later ones
      rehearse: o.live && process.env[REHEARSAL_ENV] !== '0',
      ...(o.progress ? { progress: o.progress } : {}),
    },
  );
  // Listening starts before the first dump: what changes while it runs is replayed after it.
  if (o.live) await listen();
  try {
    await copier.resync('start');
  } catch (e) {
    stopped = true;
    (events as { close(): void } | null)?.close();
    writer.close();
    throw e;
  }
  if (o.live) {
    const check = () =>
      copier
        .resync('periodic check')
        .catch((e: unknown) => o.log({ event: 'error', during: 'copy check', error: e instanceof Error ? e.message : String(e) }))
        .finally(() => {
          if (timer) timer = setTimeout(() => void check(), cfg.copy.check);
        });
    timer = setTimeout(() => void check(), cfg.copy.check);
  }
  return {
    status: () => copier.status(),
    resync: (why) => copier.resync(why),
    stop() {
      stopped = true;
      copier.stop();
      if (timer) clearTimeout(timer);
      timer = null;
      events?.close();
      writer.close();
    },
  };
}
