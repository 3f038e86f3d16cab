// multihome's packet program (program.ts) as one nftables table, replaced whole
// in a single transaction, with a fingerprint of its text so plan can tell
// whether the kernel holds exactly this config's table.
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../config/assign.js';
import type { NftState } from '../state/types.js';
import type { HealthView } from './groups.js';
import { compileProgram, fingerprintChain } from './program.js';
import { renderChains } from './render-nft.js';

import { NFT_FAMILY, NFT_TABLE } from '../ids.js';

/** The table body without its comment and fingerprint chain; the fingerprint is taken of this text. */
function nftBody(cfg: ResolvedConfig, view?: HealthView): string {
  return renderChains(compileProgram(cfg, view));
}

const fingerprintOf = (body: string): string => createHash('sha256').update(body).digest('hex').slice(0, 16);
const tableComment = (fingerprint: string): string => `multihome ${fingerprint}`;

export function compileNft(cfg: ResolvedConfig, view?: HealthView): NftState {
  const body = nftBody(cfg, view);
  const fingerprint = fingerprintOf(body);
  const fp = renderChains({ chains: [fingerprintChain(tableComment(fingerprint))] });
  // The table comment is for people; `nft -j` (1.0.6) does not print table comments, so the
  // fingerprint is also kept in the comment of a rule in an unreferenced chain, where JSON shows it.
  const script = `table ${NFT_FAMILY} ${NFT_TABLE} {\n\tcomment "${tableComment(fingerprint)}"\n\n${body}\n\n${fp}\n}\n`;
  return { family: NFT_FAMILY, name: NFT_TABLE, fingerprint, script };
}
