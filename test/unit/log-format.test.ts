// The daemon's log lines: JSON for machines, text for people, the journal's
// priority prefixes under systemd; levels filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultFormat, formatEvent, levelOf } from '../../src/daemon/log-format.js';

const at = new Date('2026-12-03T10:00:00.000Z');

test('formats: json keeps every field and adds ts and level; text and journal are one readable line', () => {
  const e = { event: 'provider', provider: 'isp2', from: 'up', to: 'down', reason: 'link: eth4 is administratively down' };
  assert.deepEqual(JSON.parse(formatEvent(e, 'json', 'info', at)), { ts: '2026-12-03T10:00:00.000Z', level: 'warning', ...e });
  assert.equal(
    formatEvent(e, 'text', 'info', at),
    '2026-12-03T10:00:00.000Z WARNING provider provider=isp2 from=up to=down reason="link: eth4 is administratively down"\n',
  );
  assert.equal(formatEvent(e, 'journal', 'info', at), '<4>provider provider=isp2 from=up to=down reason="link: eth4 is administratively down"\n');
  assert.equal(formatEvent({ event: 'error', during: 'x', error: 'a\nb' }, 'journal', 'info', at), '<3>error during=x error="a\\nb"\n');
  assert.equal(formatEvent({ event: 'applied', changes: ['a'] }, 'text', 'info', at), '2026-12-03T10:00:00.000Z INFO    applied changes=["a"]\n');
});

test('levels: errors, warnings, info, debug; below the minimum nothing is written', () => {
  assert.equal(levelOf({ event: 'error' }), 'error');
  assert.equal(levelOf({ event: 'repair' }), 'info');
  assert.equal(levelOf({ event: 'radvd' }), 'debug');
  assert.equal(formatEvent({ event: 'radvd', message: 'x' }, 'json', 'info', at), '');
  assert.equal(formatEvent({ event: 'applied' }, 'text', 'warning', at), '');
  assert.notEqual(formatEvent({ event: 'error' }, 'text', 'error', at), '');
});

test('the default: journal under systemd, text on a terminal, json otherwise', () => {
  assert.equal(defaultFormat({ JOURNAL_STREAM: '8:1234' }, true), 'journal');
  assert.equal(defaultFormat({}, true), 'text');
  assert.equal(defaultFormat({}, false), 'json');
});
