// Which named network namespace this process runs in, so that state kept for
// one namespace is never mistaken for another's.
import fs from 'node:fs';
import path from 'node:path';

export function currentNetnsName(): string | undefined {
  try {
    const self = fs.statSync('/proc/self/ns/net').ino;
    for (const name of fs.readdirSync('/run/netns')) {
      try {
        if (fs.statSync(path.join('/run/netns', name)).ino === self) return name;
      } catch {
        /* a namespace being deleted */
      }
    }
  } catch {
    /* no /run/netns: not in a named namespace */
  }
  return undefined;
}
