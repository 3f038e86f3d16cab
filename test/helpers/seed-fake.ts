// The seed router's links as facts, a fake kernel holding them, and a target
// on it with a fresh state dir: the common start of the apply and daemon tests
// that run without root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfig, prepareWithFacts, type Prepared } from '../../src/apply/session.js';
import type { Target } from '../../src/apply/transaction.js';
import type { LinkState } from '../../src/state/types.js';
import { FakeKernel } from './fake-kernel.js';
import { repoPath } from './paths.js';

export const SEED_LINKS: LinkState[] = [
  { name: 'lo', index: 1, up: true, carrier: true, addresses: [{ family: 4, address: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
  { name: 'eth0', index: 2, up: true, carrier: true, addresses: [{ family: 4, address: '192.168.99.1', prefixlen: 24, scope: 'global' }] },
  { name: 'eth1', index: 3, up: true, carrier: true, addresses: [{ family: 4, address: '205.254.211.179', prefixlen: 24, scope: 'global' }] },
  { name: 'eth4', index: 4, up: true, carrier: true, addresses: [{ family: 4, address: '67.17.28.12', prefixlen: 24, scope: 'global' }] },
];

export const SEED_TEXT = fs.readFileSync(repoPath('examples', 'seed.yaml'), 'utf8');

/** The seed router run by the daemon: both uplinks probed (isp1 by TCP to port 22, isp2 by ping), a group [isp2, isp1] as the default. */
export const SEED_DAEMON_CONFIG = `providers:
  isp1: { interface: eth1, gateway: 205.254.211.254, snat: 205.254.211.179, health: { probe: tcp, port: 22, targets: [203.0.113.10] } }
  isp2: { interface: eth4, gateway: 67.17.28.14, snat: 67.17.28.12, health: { probe: icmp, targets: [203.0.113.10] } }
groups:
  web: [isp2, isp1]
default: web
`;

export function tmpStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mh-unit-'));
}

export function fakeTarget(kernel = new FakeKernel(SEED_LINKS), dir = tmpStateDir()): Target & { kernel: FakeKernel } {
  return { exec: {}, stateDir: { dir }, kernel };
}

/** A config compiled against the fake kernel's links now. */
export function prepFake(text: string, kernel: FakeKernel, file = 'multihome.yaml'): Prepared {
  return prepareWithFacts(checkConfig(text, file), file, { links: kernel.state.links, mainRoutes: [], sysctls: kernel.state.sysctls });
}
