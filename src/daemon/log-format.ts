// How the daemon's events are written on stderr: `json` (one object per line,
// for jq and log shippers), `text` (for a person at a terminal), or `journal`
// (text without a time, each line prefixed with its syslog priority, `<3>`
// for errors: journald stores the level and adds the time itself). The
// default: `journal` when stderr is the journal (JOURNAL_STREAM), `text` on a
// terminal, `json` otherwise. Levels: error, warning, info, debug. Pure.
export type LogFormat = 'json' | 'text' | 'journal';
export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { error: 3, warning: 4, info: 6, debug: 7 }; // syslog priorities

/** The level of an event, from its kind. */
export function levelOf(e: Record<string, unknown>): LogLevel {
  switch (e.event) {
    case 'error':
      return 'error';
    case 'warning':
    case 'reload-refused':
    case 'quota':
      return 'warning';
    case 'radvd':
    case 'web':
      return 'debug';
    case 'provider':
      return e.to === 'down' ? 'warning' : 'info';
    default:
      return 'info';
  }
}

export function defaultFormat(env: NodeJS.ProcessEnv, isTty: boolean): LogFormat {
  if (env.JOURNAL_STREAM) return 'journal';
  return isTty ? 'text' : 'json';
}

const value = (v: unknown): string => (typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v));

/** The line for one event (with its newline), or '' when its level is below `min`. */
export function formatEvent(e: Record<string, unknown>, format: LogFormat, min: LogLevel, now = new Date()): string {
  const level = levelOf(e);
  if (RANK[level] > RANK[min]) return '';
  if (format === 'json') return `${JSON.stringify({ ts: now.toISOString(), level, ...e })}\n`;
  const rest = Object.entries(e)
    .filter(([k]) => k !== 'event' && k !== 'ts')
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  const text = `${String(e.event)}${rest ? ` ${rest}` : ''}`;
  if (format === 'journal') return `<${RANK[level]}>${text.replace(/\n/g, ' ')}\n`;
  return `${now.toISOString()} ${level.toUpperCase().padEnd(7)} ${text}\n`;
}
