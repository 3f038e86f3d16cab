// The one error every importer throws: which file, which line, the text it
// could not read, and why. A UserError (the admin can fix the paste), so the
// CLI renders it as file:line, the line, and a caret like a config error.
import { UserError } from '../../errors/index.js';

export class ImportError extends UserError {
  /** the file (or "input" when none was named) */
  readonly source: string;
  /** 1-based line in that file */
  readonly line: number;
  /** the text that could not be read (a whole line, or a JSON element) */
  readonly text: string;
  /** what was wrong, without the place (`message` has both) */
  readonly reason: string;

  constructor(source: string, line: number, text: string, reason: string) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    super(`${source}:${line}: ${reason}\n  ${shown}`, [
      { file: source, line, col: 1, path: [], message: reason, source: { text: shown, start: 0, length: shown.length } },
    ]);
    this.name = 'ImportError';
    this.source = source;
    this.line = line;
    this.text = text;
    this.reason = reason;
  }
}

/** Where a piece of text sits: the file it came from and the number of its first line. */
export interface Place {
  source?: string;
  /** the line number of the text's first line in its file (1 when absent) */
  firstLine?: number;
}

export const sourceOf = (p: Place): string => p.source ?? 'input';
export const lineOf = (p: Place, index: number): number => (p.firstLine ?? 1) + index;
