// Split a line into words as a shell would for iptables-save output: double
// quotes with backslash escapes (`--comment "a \"b\""`), single quotes literal.

export class WordsError extends Error {}

export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        cur += line[j];
      }
      if (j >= line.length) throw new WordsError('a double quote is not closed');
      i = j;
    } else if (c === "'") {
      inWord = true;
      const j = line.indexOf("'", i + 1);
      if (j < 0) throw new WordsError('a single quote is not closed');
      cur += line.slice(i + 1, j);
      i = j;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      inWord = true;
      cur += c;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
