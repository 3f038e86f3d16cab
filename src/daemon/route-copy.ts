// Wiring of the route copier (src/routecopy/) to the kernel: the netlink
// sockets of src/kernel/rtnetlink.ts, link events for devices going down, the
// exclusion of devices by name, and the periodic check. Used by the daemon
// (live) and by `multihome routes sync` (one resync, e.g. from `apply`).
// Runs in this process's network namespace.
import type { ResolvedConfig } from '../config/assign.js';
import { readLinks } from '../kernel/read.js';
import { dumpRoutes, followRoutes, RouteWriter, type RouteEvents } from '../kernel/rtnetlink.js';
import { linkEvent } from '../routecopy/codec.js';
import { RouteCopier, type CopyStatus, type CopyTable } from '../routecopy/engine.js';
import { copyFilter } from '../routecopy/filter.js';
import type { ExecOptions } from '../kernel/exec.js';

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
  const copier = new RouteCopier(
    { dump: (f, cb) => dumpRoutes(f, cb), write: (d, seq) => writer.send(d, seq) },
    { tables, protocol: cfg.copy.protocol, ownProtocol: cfg.route_protocol, filter: copyFilter(cfg.copy, excluded), log: o.log, ...(o.progress ? { progress: o.progress } : {}) },
  );
  let events: RouteEvents | null = null;
  let timer: NodeJS.Timeout | null = null;
  if (o.live) {
    // Listening starts before the first dump: what changes while it runs is replayed after it.
    events = followRoutes(
      (buf) => {
        for (const l of linkEvent(buf)) {
          if (l.name !== undefined && excludedNames.has(l.name) && !excluded.has(l.index)) {
            excluded.add(l.index);
            void copier.resync(`excluded device ${l.name} appeared`);
          }
          if (!l.up) copier.onLinkDown(l.index);
        }
        copier.onDatagram(buf);
      },
      (why) => copier.onOverflow(why),
    );
    if (events.recvBuffer < 1 << 20) o.log({ event: 'copy-warning', warning: `route event buffer is ${events.recvBuffer} bytes; raise net.core.rmem_max to 4194304 or more so bursts of route changes are not dropped (they are then caught by a resync)` });
  }
  try {
    await copier.resync('start');
  } catch (e) {
    events?.close();
    writer.close();
    throw e;
  }
  if (o.live) {
    const check = () =>
      copier
        .resync('periodic check')
        .catch((e: unknown) => o.log({ event: 'error', during: 'copy check', error: e instanceof Error ? e.message : String(e) }))
        .finally(() => {
          if (timer) timer = setTimeout(check, cfg.copy.check);
        });
    timer = setTimeout(check, cfg.copy.check);
  }
  return {
    status: () => copier.status(),
    resync: (why) => copier.resync(why),
    stop() {
      copier.stop();
      if (timer) clearTimeout(timer);
      timer = null;
      events?.close();
      writer.close();
    },
  };
}
