// A plan as text a person reads at a glance.
import { diffLines } from 'diff';
import { routeText, ruleText } from '../state/format.js';
import { counts, isEmpty, type Plan } from './plan.js';

export function describePlan(p: Plan, previousScript?: string): string {
  const warnings = [
    ...(p.conflicts.length ? ['', 'conflicts (apply refuses to start until they are resolved):', ...p.conflicts.map((c) => `  ✗ ${c.message}`)] : []),
    ...(p.warnings.length ? ['', 'warnings:', ...p.warnings.map((w) => `  ! ${w}`)] : []),
  ];
  if (isEmpty(p)) return ['No changes.', ...warnings].join('\n');
  const c = counts(p);
  const out: string[] = [`Plan: ${c.add} to add, ${c.change} to change, ${c.remove} to remove.`];
  if (p.sysctls.length) {
    out.push('', 'sysctl:');
    for (const s of p.sysctls) out.push(`  ~ ${s.key.replaceAll('/', '.')}: ${s.from ?? '(unset)'} -> ${s.to}`);
  }
  const routeLines = [
    ...p.routes.add.map((r) => `  + ${routeText(r)}`),
    ...p.routes.replace.map((r) => `  ~ ${routeText(r.to)}   (was: ${routeText(r.from)})`),
    ...p.routes.del.map((r) => `  - ${routeText(r)}`),
  ];
  if (routeLines.length) out.push('', 'routes:', ...routeLines);
  const ruleLines = [
    ...p.rules.add.map((r) => `  + ${ruleText(r)}${r.family === 6 ? '   (IPv6)' : ''}`),
    ...p.rules.del.map((r) => `  - ${ruleText(r)}${r.family === 6 ? '   (IPv6)' : ''}`),
  ];
  if (ruleLines.length) out.push('', 'ip rules:', ...ruleLines);
  const n = p.nft;
  if (n.action !== 'none') {
    out.push('', `nftables table inet multihome:`);
    if (n.action === 'delete') out.push('  - the whole table');
    else if (n.action === 'create') out.push('  + created:', ...indent(n.to.script ?? '', '    '));
    else {
      out.push(`  ~ replaced in one transaction (${n.reason}):`);
      if (previousScript === n.to.script) out.push('    (puts back the table exactly as multihome wrote it)');
      else if (previousScript && n.to.script) {
        for (const part of diffLines(previousScript, n.to.script)) {
          const mark = part.added ? '+ ' : part.removed ? '- ' : '  ';
          if (!part.added && !part.removed) continue;
          out.push(...indent(part.value.replace(/\n$/, ''), `    ${mark}`));
        }
      } else out.push(...indent(n.to.script ?? '', '    '));
    }
  }
  return [...out, ...warnings].join('\n');
}

const indent = (text: string, prefix: string): string[] =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `${prefix}${l}`);
