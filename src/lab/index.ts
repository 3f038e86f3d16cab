// The lab's public face for the CLI: topologies by name, and the operations.
import { UserError } from '../errors/index.js';
import { SEED_TOPOLOGY } from './seed.js';
import { SEED6_TOPOLOGY } from './seed6.js';
import type { Topology } from './topology.js';

const TOPOLOGIES: Record<string, Topology> = { seed: SEED_TOPOLOGY, seed6: SEED6_TOPOLOGY };

export function getTopology(name: string): Topology {
  const t = TOPOLOGIES[name];
  if (!t) throw new UserError(`unknown lab topology ${JSON.stringify(name)}; known: ${Object.keys(TOPOLOGIES).join(', ')}`);
  return t;
}

export { labDown, labDownAll, labUp, newLabId, nsOf } from './build.js';
export { listInstances, listInstancesChecked, type LabInstance } from './instances.js';
export { runDemo } from './demo.js';
export { type FlowRow } from './flows.js';
export { applySeedRecipe } from './seed-recipe.js';
export { SEED_MULTIHOME_FLOWS, SEED_SERVER, SEED_TOPOLOGY } from './seed.js';
export { SEED6_SERVER, SEED6_TOPOLOGY } from './seed6.js';
export { probe, startEchoServer } from './servers.js';
export { installUplinkCounter } from './uplink-counter.js';
export { startUdpFlow, type UdpFlow } from './udp-flow.js';
export { startConnectLoop, type ConnectLoop } from './connect-loop.js';
export { addLanSources, seenBySource } from './sources.js';
export type { Topology } from './topology.js';
