// Printing results and errors: text for people, --json for scripts, and the
// documented exit codes. No stack traces for user mistakes.
import { ApplyError, EXIT, formatIssue, InternalError, UserError } from '../errors/index.js';
import { CommandError } from '../kernel/exec.js';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Render any error and return the exit code for it. */
export function reportError(e: unknown, json: boolean): number {
  if (e instanceof UserError) {
    if (json) printJson({ ok: false, error: { kind: 'user', message: e.message, hint: e.hint ?? null, issues: e.issues.map(({ source: _s, ...i }) => i) } });
    else {
      for (const i of e.issues) process.stderr.write(formatIssue(i) + '\n');
      const first = e.issues[0];
      if (!first) process.stderr.write(`error: ${e.message}\n`);
      // a summary ("file: 3 errors"), unless the message only repeats the one issue (an import error)
      else if (!e.message.startsWith(`${first.file}:${first.line}:`)) process.stderr.write(`${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    }
    return EXIT.user;
  }
  if (e instanceof ApplyError) {
    if (json) printJson({ ok: false, error: { kind: 'apply', message: e.message, reverted: e.reverted } });
    else
      process.stderr.write(
        `error: ${e.message}\n${e.reverted ? 'The previous state was restored; nothing changed.\n' : 'THE PREVIOUS STATE COULD NOT BE RESTORED: check `multihome plan` and the host.\n'}`,
      );
    return e.reverted ? EXIT.applyFailed : EXIT.revertFailed;
  }
  if (e instanceof CommandError && /Operation not permitted|Permission denied/i.test(e.stderr)) {
    const msg = `${e.argv.join(' ')}: ${e.stderr}`;
    if (json) printJson({ ok: false, error: { kind: 'user', message: msg, hint: 'run multihome as root (it needs CAP_NET_ADMIN)' } });
    else process.stderr.write(`error: ${msg}\nhint: run multihome as root (it needs CAP_NET_ADMIN)\n`);
    return EXIT.user;
  }
  const msg = e instanceof Error ? e.message : String(e);
  const kind = e instanceof CommandError ? 'command' : 'internal';
  if (json) printJson({ ok: false, error: { kind, message: msg } });
  else {
    process.stderr.write(`internal error: ${msg}\n`);
    if (process.env.MULTIHOME_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    else if (!(e instanceof InternalError) && !(e instanceof CommandError))
      process.stderr.write('(set MULTIHOME_DEBUG=1 for a stack trace; please report this)\n');
  }
  return EXIT.internal;
}

/** A one-line progress display on a terminal; silent otherwise. */
export function progress(label: string): { step: (i: number, total: number, what: string) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  return {
    step(i, total, what) {
      if (!tty) return;
      if (total <= 0) {
        // no total known yet: a count
        process.stderr.write(`\r${label} ${i + 1} ${what.padEnd(24).slice(0, 24)}`);
        return;
      }
      const width = 20;
      const filled = Math.round(((i + 1) / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${i + 1}/${total} ${what.padEnd(24).slice(0, 24)}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
