// The batched line reader behind the ICMP prober (src/kernel/batched-lines.ts): lines a child
// writes come out whole and in order, only when read (at `flush` or on the timer), and the FIFO
// is unlinked at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { openBatchedLines } from '../../src/kernel/batched-lines.js';

/** A child that writes `chunks` to its stdout (the reader's FIFO), `gapMs` apart, then exits. */
function writer(fd: number, chunks: string[], gapMs: number) {
  const script = `const c=${JSON.stringify(chunks)};let i=0;const w=()=>{if(i<c.length){process.stdout.write(c[i++]);setTimeout(w,${gapMs});}};w();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', fd, 'inherit'] });
  return new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
}

test('lines come out whole and in order, only when read; a line split across writes waits for its end', async () => {
  const got: string[] = [];
  const r = await openBatchedLines(60_000, (l) => got.push(l));
  // the FIFO is unlinked once both ends are open: the descriptors keep it alive
  const fdPath = fs.readlinkSync(`/proc/self/fd/${r.writeFd}`);
  assert.ok(fdPath.endsWith(' (deleted)') && !fs.existsSync(fdPath.replace(/\/fifo \(deleted\)$/, '')), fdPath);
  const done = writer(r.writeFd, ['one\ntw', 'o\nthree\n', 'four'], 20);
  r.childStarted();
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(got, [], 'nothing is read before a flush (the timer is a minute away)');
  r.flush();
  assert.deepEqual(got, ['one', 'two', 'three']);
  assert.equal(await done, 0);
  r.flush(); // EOF: the last, unterminated piece is not a line; the reader closes
  assert.deepEqual(got, ['one', 'two', 'three']);
  r.flush();
  r.close();
  r.close();
});

test('the timer reads every period without a flush; a close stops it', async () => {
  const got: string[] = [];
  const r = await openBatchedLines(30, (l) => got.push(l));
  const done = writer(r.writeFd, ['a\n', 'b\n', 'c\n'], 10);
  r.childStarted();
  assert.equal(await done, 0);
  await new Promise((res) => setTimeout(res, 150));
  assert.deepEqual(got, ['a', 'b', 'c']);
  r.close();
});

test('more than one buffer of lines waiting is read in one flush', async () => {
  const got: string[] = [];
  const r = await openBatchedLines(60_000, (l) => got.push(l));
  const many = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(20)}\n`).join('');
  const done = writer(r.writeFd, [many], 0);
  r.childStarted();
  assert.equal(await done, 0);
  r.flush();
  assert.equal(got.length, 2000);
  assert.equal(got[1999], `line 1999 ${'x'.repeat(20)}`);
  r.close();
});
