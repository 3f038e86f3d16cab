// A lab topology as plain data: namespaces (by role), veth links with their
// addresses, routes and sysctls. build.ts turns it into namespaces; nothing
// here touches the system, so topologies can be checked and printed freely.

/** One end of a veth pair. */
interface LinkEnd {
  /** role of the namespace this end lives in */
  role: string;
  ifname: string;
  /** CIDR addresses, e.g. "192.168.99.1/24" */
  addrs: string[];
}

interface LinkSpec {
  a: LinkEnd;
  b: LinkEnd;
}

interface NamespaceSpec {
  role: string;
  /**
   * Set right after the namespace is created, before its interfaces exist, so
   * `conf.default.*` values reach every interface. Listed explicitly because a
   * new namespace otherwise inherits the host's current IPv4 settings.
   */
  sysctls: [key: string, value: string][];
  /** extra addresses on `lo` (e.g. a server address) */
  loopback: string[];
}

interface RouteSpec {
  role: string;
  /** argv after `ip route add`, e.g. ["default", "via", "205.254.211.254", "dev", "eth1"] */
  spec: string[];
}

/** Where traffic ends: the host that runs the servers and counts arrivals per uplink. */
interface InternetSpec {
  role: string;
  /** the address the servers answer on */
  server: string;
  /** uplink name → the interface in the internet namespace its traffic arrives on */
  arrival: Record<string, string>;
}

export interface Topology {
  name: string;
  namespaces: NamespaceSpec[];
  links: LinkSpec[];
  routes: RouteSpec[];
  internet: InternetSpec;
  /** the role multihome (or the recipe under test) is applied in */
  routerRole: string;
}

/** Structural checks, so a typo in a topology fails before any namespace exists. */
export function topologyProblems(t: Topology): string[] {
  const roles = new Set(t.namespaces.map((n) => n.role));
  const out: string[] = [];
  if (roles.size !== t.namespaces.length) out.push('duplicate namespace role');
  const need = (role: string, where: string) => {
    if (!roles.has(role)) out.push(`${where}: unknown role ${role}`);
  };
  const ifaces = new Set<string>();
  for (const l of t.links) {
    for (const end of [l.a, l.b]) {
      need(end.role, `link ${end.role}/${end.ifname}`);
      const key = `${end.role}/${end.ifname}`;
      if (ifaces.has(key)) out.push(`interface ${key} defined twice`);
      ifaces.add(key);
    }
  }
  for (const r of t.routes) need(r.role, `route ${r.spec.join(' ')}`);
  need(t.routerRole, 'routerRole');
  need(t.internet.role, 'internet');
  for (const [uplink, dev] of Object.entries(t.internet.arrival)) {
    if (!ifaces.has(`${t.internet.role}/${dev}`)) out.push(`uplink ${uplink}: no interface ${dev} in ${t.internet.role}`);
  }
  return out;
}

/** One test flow: who sends what to where, and where it must leave and with which source. */
export interface Flow {
  name: string;
  /** role of the sending namespace */
  from: string;
  proto: 'tcp' | 'udp';
  to: string;
  port: number;
  /** optional local source address for the sender */
  bind?: string;
  expect: { uplink: string; source: string };
}
