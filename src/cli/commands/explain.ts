// `multihome explain`: which uplink a packet takes, and why, without sending it.
// `multihome state save DIR`: the live state as JSON, to explain elsewhere.

import path from 'node:path';
import type { Command } from 'commander';
import { checkConfig, factsOf, prepareWithFacts } from '../../apply/session.js';
import { EXIT, UserError } from '../../errors/index.js';
import { readFullState } from '../../kernel/read-full.js';
import { PROTOCOLS } from '../../net/ports.js';
import { explain, PacketError } from '../../sim/explain.js';
import { overlayDesired } from '../../sim/overlay.js';
import { renderDecision } from '../../sim/render.js';
import type { Packet } from '../../sim/types.js';
import { loadStateDir, saveStateDir } from '../state-files.js';
import type { State } from '../../state/types.js';
import { readConfigFile, targetOf } from '../context.js';
import { printJson } from '../output.js';
import { guarded } from './config-commands.js';

interface ExplainOpts {
  config?: string;
  live?: boolean;
  state?: string;
  from?: string;
  to: string;
  proto?: string;
  sport?: string;
  dport?: string;
  iif?: string;
  oif?: string;
  mark?: string;
  ctmark?: string;
  tos?: string;
  uid?: string;
  established?: boolean;
  json?: boolean;
}

function int(v: string | undefined, what: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UserError(`--${what} ${v}: expected a number from 0 to ${max} (decimal or 0x hex)`);
  return n;
}

function protoOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const name = v.toLowerCase();
  if (Object.hasOwn(PROTOCOLS, name)) return PROTOCOLS[name];
  return int(v, 'proto', 255);
}

function packetOf(o: ExplainOpts): Packet {
  const fam = o.to.includes(':') ? 6 : 4;
  const p: Packet = { family: fam, src: o.from ?? (fam === 4 ? '0.0.0.0' : '::'), dst: o.to };
  const set = <K extends keyof Packet>(k: K, v: Packet[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  set('proto', protoOf(o.proto));
  set('sport', int(o.sport, 'sport', 65535));
  set('dport', int(o.dport, 'dport', 65535));
  set('mark', int(o.mark, 'mark', 0xffffffff));
  set('ctmark', int(o.ctmark, 'ctmark', 0xffffffff));
  set('tos', int(o.tos, 'tos', 255));
  set('uid', int(o.uid, 'uid', 0xffffffff));
  set('iif', o.iif);
  set('oif', o.oif);
  if (o.established) p.ctstate = 'established';
  if (o.iif && !o.from) throw new UserError('a forwarded packet (--iif) needs --from: the kernel checks its source');
  return p;
}

async function stateFor(o: ExplainOpts, cmd: Command): Promise<State> {
  const sources = [o.live, o.state !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UserError('give either --live or --state DIR, not both');
  if (!o.config && sources === 0) throw new UserError('say what to explain against: -c FILE, --live, or --state DIR');
  const base = o.state !== undefined ? loadStateDir(o.state) : await readFullState(targetOf(cmd).exec);
  if (!o.config) return base;
  const parsed = checkConfig(readConfigFile(o.config), o.config);
  const prep = prepareWithFacts(parsed, o.config, factsOf(base));
  return overlayDesired(base, prep.desired, prep.own);
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('which uplink a packet takes and why: rules, tables, marks, rp_filter, SNAT (nothing is sent)')
    .option('-c, --config <file>', 'explain what this config would do on this router (its interfaces and main table: live, or from --state)')
    .option('--live', 'use everything as the kernel of this namespace has it now')
    .option('--state <dir>', 'use a state saved with `multihome state save` (or ip/iptables/nft dumps in that folder)')
    .option('--from <addr>', 'source address (needed with --iif)')
    .requiredOption('--to <addr>', 'destination address')
    .option('--proto <p>', 'tcp, udp, icmp, … or a number (IPv4 default udp, as ip route get)')
    .option('--sport <n>', 'source port')
    .option('--dport <n>', 'destination port')
    .option('--iif <dev>', "arrival interface (a forwarded packet); without it, the packet is this host's own")
    .option('--oif <dev>', "this host's socket bound to a device")
    .option('--mark <m>', 'mark before PREROUTING (forwarded) or socket mark (local)')
    .option('--ctmark <m>', "the connection's mark, for a packet of a known connection (with --established)")
    .option('--established', 'the packet belongs to an existing connection (no NAT, no new classification)')
    .option('--tos <t>', 'TOS / traffic class byte')
    .option('--uid <u>', 'socket owner (local packets)')
    .option('--json', 'print JSON for scripts')
    .action((o: ExplainOpts, cmd: Command) =>
      guarded(o.json, async () => {
        const pkt = packetOf(o);
        const state = await stateFor(o, cmd);
        let d;
        try {
          d = explain(state, pkt);
        } catch (e) {
          if (e instanceof PacketError) throw new UserError(e.message);
          throw e;
        }
        if (o.json) printJson(d);
        else process.stdout.write(renderDecision(d) + '\n');
        return EXIT.ok;
      }),
    );

  const state = program.command('state').description('save the live routing state, to explain it elsewhere');
  state
    .command('save')
    .argument('<dir>', 'folder to write state.json into')
    .option('--json', 'print JSON for scripts')
    .action((dir: string, o: { json?: boolean }, cmd: Command) =>
      guarded(o.json, async () => {
        const s = await readFullState(targetOf(cmd).exec);
        const file = saveStateDir(dir, s);
        if (o.json) printJson({ ok: true, file, rules: s.rules.length, routes: s.routes.length, chains: s.program?.chains.length ?? 0 });
        else
          process.stdout.write(
            `saved ${s.rules.length} rules, ${s.routes.length} routes, ${s.links.length} links, ${s.program?.chains.length ?? 0} netfilter chains to ${path.relative(process.cwd(), file) || file}\n`,
          );
        return EXIT.ok;
      }),
    );
}
