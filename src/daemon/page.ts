// The status page the daemon serves at `/`: each uplink's state, RTT, loss and
// jitter, graphs of the last hour (uPlot, served by the daemon itself), the
// groups with their members and weights, and the event history. It polls the
// API every 2 s, passing on the page's own `?token=` when there is one. Plain
// HTML and a small script: nothing to build, nothing from the internet.
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>multihome</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="uPlot.css">
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em; color: #222; }
 h1 { font-size: 1.3em; margin: 0 0 .2em } h2 { font-size: 1.05em; margin: 1.2em 0 .4em }
 table { border-collapse: collapse } td, th { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left }
 .up { color: #176b2c; font-weight: 600 } .degraded { color: #a86800; font-weight: 600 } .down { color: #b3261e; font-weight: 600 }
 .charts { display: flex; flex-wrap: wrap; gap: 1em } .muted { color: #777 } #events td { font-family: ui-monospace, monospace; font-size: 12px }
</style></head>
<body>
<h1>multihome</h1><div id="summary" class="muted">loading…</div>
<h2>Uplinks</h2>
<table id="providers"><thead><tr><th>provider</th><th>state</th><th>since</th><th>RTT</th><th>loss</th><th>jitter</th><th>connections</th><th>in</th><th>out</th><th>routes</th></tr></thead><tbody></tbody></table>
<h2>Groups</h2>
<table id="groups"><thead><tr><th>group</th><th>members (weight)</th><th>active</th></tr></thead><tbody></tbody></table>
<h2>Last hour</h2>
<div class="charts" id="charts"></div>
<h2>Events</h2>
<table id="events"><tbody></tbody></table>
<script src="uPlot.js"></script><script src="page.js"></script>
</body></html>
`;

export const PAGE_SCRIPT = `'use strict';
const token = new URLSearchParams(location.search).get('token');
const api = (p) => fetch(p + (token ? '?token=' + encodeURIComponent(token) : ''), { cache: 'no-store' }).then((r) => { if (!r.ok) throw new Error(p + ': ' + r.status); return r.json(); });
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const ago = (ms) => ms == null ? '-' : Math.max(0, Math.round((Date.now() - ms) / 1000)) + 's ago';
const ms = (v) => v == null ? '-' : v.toFixed(1) + ' ms';
const rate = (b) => b == null ? '-' : b < 1e3 ? b.toFixed(0) + ' b/s' : b < 1e6 ? (b / 1e3).toFixed(1) + ' kb/s' : (b / 1e6).toFixed(1) + ' Mb/s';
const charts = {};
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
function chart(key, title, names, data, fmt) {
  const el = document.getElementById('charts');
  const sig = names.join();
  if (!charts[key] || charts[key].sig !== sig) {
    if (charts[key]) charts[key].plot.destroy();
    const box = document.createElement('div');
    box.id = 'chart-' + key;
    el.appendChild(box);
    const plot = new uPlot({ title, width: 460, height: 200, series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], value: (u, v) => fmt(v) }))], axes: [{}, { size: 60 }] }, data, box);
    charts[key] = { plot, sig };
  } else charts[key].plot.setData(data);
}
function renderHistory(points, names) {
  const xs = points.map((p) => p.t / 1000);
  const series = (f) => names.map((n) => points.map((p) => { const v = p.providers[n]; return v ? f(v) : null; }));
  const num = (d) => (v) => v == null ? '-' : v.toFixed(d);
  chart('rtt', 'RTT (ms)', names, [xs, ...series((v) => v.rttMs)], num(2));
  chart('loss', 'loss (%)', names, [xs, ...series((v) => v.loss == null ? null : v.loss * 100)], num(0));
  chart('jitter', 'jitter (ms)', names, [xs, ...series((v) => v.jitterMs)], num(2));
  chart('throughput', 'throughput, in + out (kb/s)', names, [xs, ...series((v) => v.inBps == null ? null : (v.inBps + (v.outBps || 0)) / 1000)], num(1));
}
const eventText = (e) => Object.entries(e).filter(([k]) => k !== 'ts' && k !== 'event').map(([k, v]) => k + '=' + (typeof v === 'string' ? v : JSON.stringify(v))).join(' ');
async function refresh() {
  try {
    const [s, events, history] = await Promise.all([api('api/status'), api('api/events'), api('api/history')]);
    document.getElementById('summary').textContent = 'pid ' + s.pid + ' · ' + s.config + ' · applied ' + (s.appliedAt || 'never') + ' · ' + s.repairs + ' repairs' + (s.lastApply && !s.lastApply.ok ? ' · LAST APPLY FAILED: ' + s.lastApply.error : '');
    const last = history.length ? history[history.length - 1].providers : {};
    document.querySelector('#providers tbody').innerHTML = s.providers.map((p) => {
      const state = p.link ? 'down' : p.state;
      const routes = Object.entries(p.routes || {}).map(([f, v]) => f + ': ' + v).join(', ');
      const h = last[p.name] || {};
      return '<tr data-provider="' + esc(p.name) + '"><td>' + esc(p.name) + '</td><td class="state ' + state + '">' + esc(state + (p.link ? ' (link)' : p.suppressed ? '*' : '')) + '</td><td>' + ago(p.since) + '</td><td>' + ms(p.latencyMs) + '</td><td>' + (p.loss == null ? '-' : Math.round(p.loss * 100) + '%') + '</td><td>' + ms(p.jitterMs) + '</td><td>' + (p.connections ?? '-') + '</td><td>' + rate(h.inBps) + '</td><td>' + rate(h.outBps) + '</td><td>' + esc(routes) + '</td></tr>';
    }).join('');
    document.querySelector('#groups tbody').innerHTML = s.groups.map((g) => '<tr data-group="' + esc(g.name) + '"><td>' + esc(g.name) + '</td><td>' + (g.tiers || []).map((t) => t.map((m) => esc(m.name) + ' (' + m.weight + ')').join(', ')).join(' → ') + '</td><td class="active">' + esc(g.active.join(', ') || '(last resort)') + (g.held && g.held.length ? ' <span class="muted">held back: ' + esc(g.held.join(', ')) + '</span>' : '') + '</td></tr>').join('');
    document.querySelector('#events tbody').innerHTML = events.slice().reverse().slice(0, 100).map((e) => '<tr class="event ' + esc(e.event) + '"><td>' + esc((e.ts || '').slice(11, 23)) + '</td><td>' + esc(e.event) + '</td><td>' + esc(eventText(e)) + '</td></tr>').join('');
    if (window.uPlot) renderHistory(history, s.providers.map((p) => p.name));
  } catch (e) {
    document.getElementById('summary').textContent = 'cannot reach the daemon: ' + e.message;
  }
}
refresh();
setInterval(refresh, 2000);
`;
