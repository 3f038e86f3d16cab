// Pasted JSON: one value, or several one after another (`ip -j rule; ip -6 -j
// rule`), with the line each top-level array element starts on, so that an
// error can name the line. Pure text scanning; JSON.parse does the parsing.

export interface JsonItem {
  /** the parsed value of one element of a top-level array, or a top-level non-array value */
  value: unknown;
  /** 0-based line of the text where it starts */
  index: number;
  /** its text */
  text: string;
  /** which top-level value (0, 1, …) it belongs to: one per `ip -j` command */
  group: number;
}

export class JsonScanError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** End (exclusive) of the JSON value that starts at `i`. */
function skipValue(s: string, i: number): number {
  const open = s[i];
  if (open === '"') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '"') return j + 1;
    }
    return -1;
  }
  if (open !== '[' && open !== '{') {
    const m = /^[^\s,\]}[{]+/.exec(s.slice(i));
    return m ? i + m[0].length : -1;
  }
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '"') {
      const e = skipValue(s, j);
      if (e < 0) return -1;
      j = e - 1;
    } else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/** Line numbers of increasing positions, counted incrementally. */
function lineCounter(s: string): (pos: number) => number {
  let at = 0;
  let line = 0;
  return (pos) => {
    if (pos < at) {
      at = 0;
      line = 0;
    }
    for (; at < pos; at++) if (s.charCodeAt(at) === 10) line++;
    return line;
  };
}

export function scanJson(text: string): JsonItem[] {
  const out: JsonItem[] = [];
  const lineAt = lineCounter(text);
  let i = 0;
  let group = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  ws();
  if (i >= text.length) return out;
  while (i < text.length) {
    const c = text[i];
    if (c !== '[' && c !== '{') throw new JsonScanError(`expected "[" or "{", found ${JSON.stringify(text.slice(i, i + 20))}`, lineAt(i));
    const end = skipValue(text, i);
    if (end < 0) throw new JsonScanError('unfinished JSON value', lineAt(i));
    const whole = text.slice(i, end);
    let parsed: unknown;
    try {
      parsed = JSON.parse(whole);
    } catch (e) {
      // point at the line where JSON.parse stopped
      const at = /at position (\d+)/.exec((e as Error).message);
      throw new JsonScanError(`invalid JSON: ${(e as Error).message}`, lineAt(at ? i + Number(at[1]) : i));
    }
    if (Array.isArray(parsed)) {
      // find each element's start to report its line
      let j = i + 1;
      for (const value of parsed) {
        while (/[\s,]/.test(text[j]!)) j++;
        const e = skipValue(text, j);
        out.push({ value, index: lineAt(j), text: text.slice(j, e), group });
        j = e;
      }
    } else {
      out.push({ value: parsed, index: lineAt(i), text: whole, group });
    }
    group++;
    i = end;
    ws();
  }
  return out;
}
