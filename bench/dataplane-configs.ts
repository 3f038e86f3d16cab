// The five router configurations of the data-path bench, each set up on a
// freshly built lab router (so none inherits conntrack entries, tables or
// hooks from another):
//   (a) baseline: forwarding only, no netfilter rule at all, no NAT (the
//       server routes the LAN back): the cost of routing alone;
//   (n) a reference beside it: conntrack and SNAT on the uplink, nothing
//       else — what any NAT router pays, multihome or not;
//   (b) seed: examples/seed.yaml applied with multihome;
//   (c) policies: 8 providers, 16 policies over 10,000 destination and 1,000
//       source prefixes (dataplane-policies.ts), applied with multihome;
//   (d) seed-way: the same policies as 11,000 iptables mangle MARK rules,
//       iptables-restore'd, with `fwmark N lookup N` rules and SNAT;
//   (e) offload: (c) plus an nft flowtable for established TCP/UDP flows,
//       in a table of its own (multihome does not write flowtables).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOk } from '../src/kernel/exec.js';
import { execInNetnsOk, netnsIp, nftIn, sysctlIn } from '../src/kernel/netns.js';
import { UPLINKS } from './dataplane-lab.js';
import { policyConfig, seedWayIptables, seedWayMark, seedWayTable, type PolicyLists } from './dataplane-policies.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '..', 'src', 'cli', 'main.js');
const SEED_YAML = path.resolve(here, '..', '..', 'examples', 'seed.yaml');

export type ConfigKey = 'a' | 'n' | 'b' | 'c' | 'd' | 'e';

export interface RouterConfig {
  key: ConfigKey;
  label: string;
  /** set the router up; `dir` holds the generated files */
  setup(router: string, dir: string): Promise<void>;
}

/** The generated files, written once per run. */
export function writeConfigFiles(dir: string, lists: PolicyLists): void {
  fs.writeFileSync(path.join(dir, 'policies.yaml'), policyConfig(lists));
  fs.writeFileSync(path.join(dir, 'seed-way.iptables'), seedWayIptables(lists));
}

/** `multihome apply` in the router's namespace, as an operator would run it (its default state dir, removed with the lab). */
const apply = (router: string, file: string) => runOk([process.execPath, MAIN, '--netns', router, 'apply', '-c', file], { timeoutMs: 120_000 });

/** The NAT floor: SNAT by the uplink main's default leaves by (conntrack comes with it). */
const NAT_ONLY = `table inet bench_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "${UPLINKS[0]!.dev}" snat ip to ${UPLINKS[0]!.addr}
	}
}
`;

/** A flowtable on every interface of the path; `flow add` for TCP and UDP once conntrack has seen both directions. */
const OFFLOAD = `table inet bench_offload {
	flowtable ft {
		hook ingress priority filter
		devices = { eth0, ${UPLINKS.map((u) => u.dev).join(', ')} }
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto { tcp, udp } flow add @ft
	}
}
`;

export const CONFIGS: RouterConfig[] = [
  { key: 'a', label: 'no ruleset (routing only)', setup: (r) => sysctlIn(r, 'net.ipv4.ip_forward', '1') },
  {
    key: 'n',
    label: 'conntrack + SNAT only (reference)',
    async setup(r) {
      await nftIn(r, NAT_ONLY);
      await sysctlIn(r, 'net.ipv4.ip_forward', '1');
    },
  },
  { key: 'b', label: 'seed config (multihome)', setup: (r) => apply(r, SEED_YAML).then(() => undefined) },
  { key: 'c', label: '8 providers, 10k dst + 1k src prefixes (multihome)', setup: (r, dir) => apply(r, path.join(dir, 'policies.yaml')).then(() => undefined) },
  {
    key: 'd',
    label: 'same policies the seed way (11k iptables MARK rules)',
    async setup(r, dir) {
      const batch = UPLINKS.flatMap((u, i) => [
        `route add table ${seedWayTable(i)} default via ${u.gateway} dev ${u.dev}`,
        `rule add fwmark ${seedWayMark(i)} table ${seedWayTable(i)}`,
      ]);
      await runOk(['ip', '-batch', '-'], { netns: r, input: `${batch.join('\n')}\n` });
      await execInNetnsOk(r, ['iptables-restore'], { input: fs.readFileSync(path.join(dir, 'seed-way.iptables'), 'utf8'), timeoutMs: 120_000 });
      await netnsIp(r, ['route', 'flush', 'cache']);
      await sysctlIn(r, 'net.ipv4.ip_forward', '1');
    },
  },
  {
    key: 'e',
    label: '(c) + nft flowtable offload',
    async setup(r, dir) {
      await apply(r, path.join(dir, 'policies.yaml'));
      await nftIn(r, OFFLOAD);
    },
  },
];
