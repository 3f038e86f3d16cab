import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyError, EXIT, formatIssue, InternalError, UserError, type SourceIssue } from '../../src/errors/index.js';

const base: SourceIssue = {
  file: 'multihome.yaml',
  line: 7,
  col: 13,
  path: ['policies', 0, 'match', 'from', 0],
  message: '"192.168.99.5/24" has host bits set',
};

test('formatIssue: only the location line when there is no source and no hint', () => {
  assert.equal(formatIssue(base), 'multihome.yaml:7:13: error: "192.168.99.5/24" has host bits set');
});

test('formatIssue: file:line:col, source line, caret under the span, hint', () => {
  const text = formatIssue({
    ...base,
    hint: 'write 192.168.99.0/24',
    source: { text: '      from: 192.168.99.5/24', start: 12, length: 15 },
  });
  assert.equal(
    text,
    [
      'multihome.yaml:7:13: error: "192.168.99.5/24" has host bits set',
      '        from: 192.168.99.5/24',
      '              ^^^^^^^^^^^^^^^',
      '  hint: write 192.168.99.0/24',
    ].join('\n'),
  );
  // the caret sits exactly under the span in the indented source line
  const [, src, caret] = text.split('\n') as [string, string, string];
  assert.equal(caret.indexOf('^'), src.indexOf('192.168.99.5/24'));
  assert.equal(caret.trim().length, '192.168.99.5/24'.length);
});

test('formatIssue: the source without a hint', () => {
  assert.equal(
    formatIssue({ ...base, line: 1, col: 1, message: 'unknown key "polices"', source: { text: 'polices:', start: 0, length: 7 } }),
    ['multihome.yaml:1:1: error: unknown key "polices"', '  polices:', '  ^^^^^^^'].join('\n'),
  );
});

test('formatIssue: a hint without a source', () => {
  assert.equal(
    formatIssue({ ...base, hint: 'did you mean "isp1"?' }),
    'multihome.yaml:7:13: error: "192.168.99.5/24" has host bits set\n  hint: did you mean "isp1"?',
  );
});

test('formatIssue: a zero-length span still gets one caret', () => {
  const text = formatIssue({ ...base, source: { text: 'default: isp1', start: 9, length: 0 } });
  assert.equal(text.split('\n')[2], `  ${' '.repeat(9)}^`);
});

test('formatIssue: an empty hint is left out', () => {
  assert.equal(formatIssue({ ...base, hint: '' }), 'multihome.yaml:7:13: error: "192.168.99.5/24" has host bits set');
});

test('error classes carry their kind and data; exit codes are distinct', () => {
  const u = new UserError('bad config', [base], 'fix it');
  assert.equal(u.kind, 'user');
  assert.equal(u.message, 'bad config');
  assert.deepEqual(u.issues, [base]);
  assert.equal(u.hint, 'fix it');
  assert.ok(u instanceof Error);
  assert.deepEqual(new UserError('x').issues, []);
  assert.equal(new InternalError('y').kind, 'internal');
  const a = new ApplyError('failed', true, 'detail');
  assert.equal(a.kind, 'apply');
  assert.equal(a.reverted, true);
  assert.equal(a.detail, 'detail');
  assert.deepEqual(EXIT, { ok: 0, user: 1, applyFailed: 2, internal: 3, revertFailed: 4 });
});
