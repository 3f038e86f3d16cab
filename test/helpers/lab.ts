// Lab tests run in network namespaces they create and always delete.
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { labDown, labUp, nsOf, SEED_TOPOLOGY, type LabInstance, type Topology } from '../../src/lab/index.js';

export function canRunLab(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'nft', 'sysctl']) {
    if (spawnSync('which', [tool]).status !== 0) return `needs ${tool}`;
  }
  return undefined;
}

/** Build the seed lab, run `fn` with the router's namespace, always tear down. */
export async function withSeedLab(t: TestContext, fn: (router: string, inst: LabInstance) => Promise<void>, topology: Topology = SEED_TOPOLOGY): Promise<void> {
  const why = canRunLab();
  if (why) {
    t.skip(why);
    return;
  }
  const inst = await labUp(topology);
  try {
    await fn(nsOf(inst, 'router'), inst);
  } finally {
    await labDown(inst);
  }
}
