// jobs.js — #/jobs: the job list, filtered by type and state (query `?type=train&state=running`),
// newest first, 50 rows a page (the API's `before` cursor: the last id of the previous page);
// the page shown is refreshed every 3 s.

import { api } from './api.js';
import { h, table, when, bar, state, fmt } from './ui.js';
import { working } from './router.js';

export const TYPES = ['ingest', 'embed', 'probe', 'layer_sweep', 'neighbours', 'train', 'sleep'];
export const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const PAGE = 50;

export async function render(ctx) {
  const type = ctx.query.get('type') || '', st = ctx.query.get('state') || '';
  const select = (name, values, current) => h('select', {
    name, onchange: () => {
      const q = new URLSearchParams();
      for (const s of form.querySelectorAll('select')) if (s.value) q.set(s.name, s.value);
      location.hash = '#/jobs' + (q.toString() ? '?' + q : '');
    },
  }, h('option', { value: '' }, `any ${name}`), values.map((v) => h('option', { value: v, selected: v === current }, v)));
  const form = h('div', { class: 'filters' }, select('type', TYPES, type), ' ', select('state', STATES, st));
  const holder = h('div');
  const cursors = [null];   // cursors[i]: the `before` of page i (null: the newest)
  let page = 0;
  const prev = h('button', { type: 'button', disabled: true, onclick: () => { if (page > 0) { page -= 1; working(load); } } }, '‹ newer');
  const next = h('button', { type: 'button', disabled: true, onclick: () => { if (cursors[page + 1]) { page += 1; working(load); } } }, 'older ›');
  const info = h('span', { class: 'muted' });
  ctx.main.append(h('h1', {}, 'Jobs'), h('section', {}, form, holder, h('p', {}, prev, ' ', next, ' ', info)));

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (type) q.set('type', type);
    if (st) q.set('state', st);
    if (cursors[page]) q.set('before', String(cursors[page]));
    const { jobs } = await api('/v1/jobs?' + q);
    if (!ctx.active) return;
    holder.replaceChildren(table('jobs', [
      { key: 'id', num: true, show: (v) => h('a', { href: `#/jobs/${v}` }, '#' + v) },
      { key: 'type' }, { key: 'state', show: state },
      { key: 'progress', num: true, show: (v) => h('span', {}, bar(v), ` ${Math.round(v * 100)} %`) },
      { key: 'message', value: (j) => j.error || j.message, show: (v) => String(v || '').slice(0, 100) },
      { key: 'attempt', num: true, show: (v, j) => `${v}/${j.max_attempts}` },
      { key: 'created_at', label: 'created', show: when },
      { key: 'duration', num: true, value: (j) => (j.started_at ? (j.finished_at || Date.now() / 1000) - j.started_at : null),
        show: (v) => (v === null ? '–' : fmt(Math.round(v)) + ' s') },
    ], jobs, { href: (j) => `#/jobs/${j.id}`, empty: 'no jobs match' }));
    cursors[page + 1] = jobs.length === PAGE ? jobs[jobs.length - 1].id : null;
    prev.disabled = page === 0;
    next.disabled = !cursors[page + 1];
    info.textContent = `page ${page + 1} · ${jobs.length} jobs`;
  }
  await load();
  ctx.every(3000, load);
}
