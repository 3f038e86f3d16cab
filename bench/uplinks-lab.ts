// A router namespace with N uplinks for the daemon benches: a veth to each of
// N provider namespaces whose gateway answers the probes (ICMP every 200 ms,
// the defaults). Built here and always removed by `remove()`.
import fs from 'node:fs';
import { runOk } from '../src/kernel/exec.js';
import { addNetns, delNetns, vethBetween } from '../src/kernel/netns.js';

export interface UplinksLab {
  router: string;
  /** the `providers:` lines of a config for them */
  providersYaml: string[];
  remove(): Promise<void>;
}

export async function buildUplinks(n: number, tag: string): Promise<UplinksLab> {
  const id = Math.random().toString(16).slice(2, 8);
  const router = `mh-${tag}-${id}-r`;
  const isp = (i: number) => `mh-${tag}-${id}-p${i}`;
  const made: string[] = [];
  const remove = async () => {
    for (const ns of made.reverse()) await delNetns(ns);
  };
  try {
    await addNetns(router);
    made.push(router);
    await runOk(['ip', 'link', 'set', 'lo', 'up'], { netns: router });
    const providersYaml: string[] = [];
    for (let i = 1; i <= n; i++) {
      await addNetns(isp(i));
      made.push(isp(i));
      await vethBetween(router, `up${i}`, isp(i), 'eth0');
      await runOk(['ip', 'addr', 'add', `10.${i}.0.2/24`, 'dev', `up${i}`], { netns: router });
      await runOk(['ip', 'link', 'set', `up${i}`, 'up'], { netns: router });
      await runOk(['ip', 'addr', 'add', `10.${i}.0.1/24`, 'dev', 'eth0'], { netns: isp(i) });
      await runOk(['ip', 'link', 'set', 'eth0', 'up'], { netns: isp(i) });
      providersYaml.push(`  isp${i}: { interface: up${i}, gateway: 10.${i}.0.1, health: { probe: icmp, targets: [10.${i}.0.1] } }`);
    }
    return { router, providersYaml, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

const HZ = 100; // USER_HZ: /proc/PID/stat counts CPU time in clock ticks

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / HZ;
  } catch {
    return 0;
  }
}
