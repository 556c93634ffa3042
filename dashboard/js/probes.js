// probes.js — #/probes: every stored probe result (`GET /v1/probes`, filtered by space or target:
// `#/probes?space=…`) with its shuffled-label and trivial-feature controls, and per-layer charts from
// the succeeded `layer_sweep` jobs (probe R², anisotropy as mean cosine, effective rank): one series
// per job, model and kind, so layers of different models and spaces sit on one chart.

import { api } from './api.js';
import { lineChart } from './chart.js';
import { h, table } from './ui.js';

const SWEEP_METRICS = [
  ['loc_r2', 'probe R²: lines of code'], ['complexity_r2', 'probe R²: complexity'],
  ['mean_cosine', 'anisotropy (mean cosine)'], ['effective_rank', 'effective rank'],
];

// Scores with three decimals (R² and balanced accuracy live in [-1, 1]), like `swejepa report`.
const f3 = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));
const pm = f3;

export async function render(ctx) {
  const space = ctx.query.get('space') || '', target = ctx.query.get('target') || '';
  const q = new URLSearchParams({ limit: '1000' });
  if (space) q.set('space', space);
  if (target) q.set('target', target);
  const [probes, sweeps, spaces] = await Promise.all([
    api('/v1/probes?' + q),
    api('/v1/jobs?type=layer_sweep&state=succeeded&limit=20'),
    api('/v1/spaces'),
  ]);

  const pick = h('select', { 'data-testid': 'probes-space', onchange: () => {
    location.hash = '#/probes' + (pick.value ? '?space=' + encodeURIComponent(pick.value) : '');
  } }, h('option', { value: '' }, 'every space'),
  spaces.spaces.filter((s) => !s.kind.endsWith('_tokens')).map((s) => h('option', { value: s.name, selected: s.name === space }, s.name)));

  const rows = probes.probes;
  const controls = (r, which) => r.result && r.result.controls && r.result.controls[which] ? r.result.controls[which].mean : null;
  const probeTable = table('probes', [
    { key: 'space', show: (v) => h('code', {}, v) }, { key: 'target' }, { key: 'task' }, { key: 'metric' },
    { key: 'mean', num: true, show: (v, r) => `${f3(v)} ± ${f3(r.std)}` },
    { key: 'std', num: true, show: f3 },
    { key: 'shuffled', label: 'shuffled labels', num: true, value: (r) => controls(r, 'shuffled'), show: pm },
    { key: 'trivial', label: 'trivial feature', num: true, value: (r) => controls(r, 'trivial'),
      show: (v, r) => (v === null ? '–' : h('span', { title: r.result.trivial_feature || '' }, f3(v))) },
    { key: 'n', num: true, value: (r) => (r.result ? r.result.n : null) },
    { key: 'group_by' },
    { key: 'job_id', label: 'job', show: (v) => (v ? h('a', { href: `#/jobs/${v}` }, '#' + v) : '–') },
  ], rows, { id: (r) => (r.id !== undefined ? r.id : `${r.space}|${r.target}|${r.metric}`), sort: true,
    empty: 'no probe results: run a probe job from Run' });

  const charts = h('div', { class: 'charts' });
  ctx.main.append(
    h('h1', {}, 'Probes and layers'),
    h('section', {}, h('p', {}, 'space ', pick, ` · ${rows.length} results`), probeTable),
    h('section', {}, h('h2', {}, 'Layer sweeps'), charts),
  );

  const jobs = sweeps.jobs.filter((j) => j.result && Array.isArray(j.result.rows));
  if (!jobs.length) { charts.append(h('p', { class: 'muted' }, 'no succeeded layer_sweep job yet')); return; }
  for (const [metric, title] of SWEEP_METRICS) {
    const series = [];
    for (const j of jobs) {
      const kinds = [...new Set(j.result.rows.map((r) => r.kind))];
      for (const kind of kinds) {
        const rs = j.result.rows.filter((r) => r.kind === kind).sort((a, b) => a.layer - b.layer);
        series.push({ name: `#${j.id} ${j.result.model} ${kind}`, x: rs.map((r) => r.layer), y: rs.map((r) => (r[metric] === null ? null : r[metric])) });
      }
    }
    const chart = lineChart(charts, { metric, xLabel: 'layer', yLabel: title });
    chart.figure.querySelector('figcaption').textContent = title;
    chart.draw(series);
  }
}
