// Config (+ facts about the system) → desired State. Pure.
import type { ResolvedConfig } from '../config/assign.js';
import { compareRoutes, compareRules } from '../state/format.js';
import type { State } from '../state/types.js';
import { viewOf, type SystemFacts } from './facts.js';
import { compileNft } from './nft.js';
import { compileProgram } from './program.js';
import { compileRoutes } from './routes.js';
import { compileRules } from './rules.js';
import { compileSysctls } from './sysctl.js';

export type { SystemFacts } from './facts.js';

export function compile(cfg: ResolvedConfig, facts: SystemFacts): State {
  const view = viewOf(cfg, facts);
  return {
    rules: compileRules(cfg, facts, view).sort(compareRules),
    routes: compileRoutes(cfg, facts).sort(compareRoutes),
    nft: compileNft(cfg, view),
    sysctls: compileSysctls(cfg, facts),
    links: [],
    program: compileProgram(cfg, view),
  };
}
