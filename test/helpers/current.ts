// A desired State as the kernel would report it back (nft as a fingerprint and
// digest, no script), to plan against in pure tests.
import type { State } from '../../src/state/types.js';

export function asCurrent(desired: State): State {
  const copy = structuredClone(desired);
  if (copy.nft) copy.nft = { family: copy.nft.family, name: copy.nft.name, fingerprint: copy.nft.fingerprint, digest: 'digest' };
  return copy;
}
