// Errors are data. A UserError is something the user can fix (config, arguments,
// the system not matching the config); an InternalError is a bug or an
// unexpected kernel answer. The CLI renders both late and maps them to exit codes.

export interface SourceIssue {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
  path: (string | number)[];
  message: string;
  hint?: string;
  /** the source line and a caret under the offending span, filled in when rendered */
  source?: { text: string; start: number; length: number };
}

export const EXIT = {
  ok: 0,
  /** the config or the command line is wrong, or the system does not match it; nothing was changed */
  user: 1,
  /** applying failed and the previous state was restored */
  applyFailed: 2,
  /** a bug or an unexpected answer from the kernel */
  internal: 3,
  /** applying failed AND restoring the previous state failed: look at the host */
  revertFailed: 4,
} as const;

export class UserError extends Error {
  readonly kind = 'user' as const;
  constructor(
    message: string,
    readonly issues: SourceIssue[] = [],
    readonly hint?: string,
  ) {
    super(message);
  }
}

export class InternalError extends Error {
  readonly kind = 'internal' as const;
}

/** Applying failed; `reverted` tells whether the previous state was restored. */
export class ApplyError extends Error {
  readonly kind = 'apply' as const;
  constructor(
    message: string,
    readonly reverted: boolean,
    readonly detail?: string,
    /** what failed (e.g. the kernel's refusal of one op), for callers that work around it */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export function formatIssue(i: SourceIssue): string {
  const lines = [`${i.file}:${i.line}:${i.col}: error: ${i.message}`];
  if (i.source) {
    lines.push(`  ${i.source.text}`);
    lines.push(`  ${' '.repeat(i.source.start)}${'^'.repeat(Math.max(1, i.source.length))}`);
  }
  if (i.hint) lines.push(`  hint: ${i.hint}`);
  return lines.join('\n');
}
