// students.js — #/students: every succeeded `train` job as a leaderboard row (model, loss, spaces,
// epochs, test Rank@1 / Rank@10 / MRR, the random and signature-mean baselines of the same job),
// sortable by any column; a row opens the job page.

import { api } from './api.js';
import { h, table, fmt } from './ui.js';

const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %');

export async function render(ctx) {
  const { jobs } = await api('/v1/jobs?type=train&state=succeeded&limit=1000');
  const rows = jobs.filter((j) => j.result);
  const r = (j) => j.result, test = (j) => (r(j).test || {}), cfg = (j) => (r(j).config || {});
  const board = table('leaderboard', [
    { key: 'id', label: 'job', num: true, show: (v) => h('a', { href: `#/jobs/${v}` }, '#' + v) },
    { key: 'model', value: (j) => (cfg(j).model || {}).kind ?? j.params.model ?? null },
    { key: 'loss', value: (j) => (cfg(j).model || {}).loss ?? j.params.loss ?? null },
    { key: 'input_space', label: 'input', value: (j) => r(j).input_space, show: (v) => h('code', {}, v) },
    { key: 'target_space', label: 'target', value: (j) => r(j).target_space, show: (v) => h('code', {}, v) },
    { key: 'epochs', num: true, value: (j) => (Array.isArray(r(j).epochs) ? r(j).epochs.length : null),
      show: (v, j) => `${v ?? '–'}${r(j).best_epoch !== undefined ? ' (best ' + r(j).best_epoch + ')' : ''}` },
    { key: 'rank1', label: 'Rank@1', num: true, value: (j) => test(j).rank1, show: pct },
    { key: 'rank10', label: 'Rank@10', num: true, value: (j) => test(j).rank10, show: pct },
    { key: 'mrr', label: 'MRR', num: true, value: (j) => test(j).mrr, show: (v) => fmt(v) },
    { key: 'random_rank10', label: 'random R@10', num: true, value: (j) => (r(j).random_baseline || {}).rank10 ?? null, show: pct },
    { key: 'sig_mean_rank10', label: 'sig_mean R@10', num: true, value: (j) => (r(j).signature_mean_baseline || {}).rank10 ?? null, show: pct },
    { key: 'test_count', label: 'test functions', num: true, value: (j) => r(j).test_count ?? test(j).count ?? null },
    { key: 'output_space', label: 'student space', value: (j) => r(j).output_space,
      show: (v) => h('code', {}, v || '') },
  ], rows, { href: (j) => `#/jobs/${j.id}`, sort: true, empty: 'no succeeded train job yet: start one from Run' });
  ctx.main.append(h('h1', {}, 'Students'),
    h('section', {}, h('p', { class: 'muted' }, 'Test split of each job, ranked among all functions; click a header to sort, a row for the job.'), board));
}
