// overview.js — #/overview: store numbers, repositories, spaces with their index, running jobs.
// Refreshed every 3 s while shown.

import { api } from './api.js';
import { h, table, bytes, when, bar, state, fmt } from './ui.js';

const STATS = [
  ['repositories', 'repositories'], ['functions', 'functions'], ['duplicate_groups', 'duplicate groups'],
  ['spaces', 'spaces'], ['vectors', 'vectors'], ['database_bytes', 'store size'],
];

/** Index info per space (`GET /v1/spaces/{name}/index`); null when it has none (no vectors, token
 *  space). Asked again when the space's count or generation changed, else at most every 15 s. */
const indexCache = new Map();   // name → { key, at, info }
async function indexOf(space) {
  if (space.kind.endsWith('_tokens') || !space.count) return null;
  const key = `${space.count}|${space.generation}`, hit = indexCache.get(space.name);
  if (hit && hit.key === key && Date.now() - hit.at < 15000) return hit.info;
  let info = null;
  try { info = await api(`/v1/spaces/${encodeURIComponent(space.name)}/index`); } catch (_) { info = null; }
  indexCache.set(space.name, { key, at: Date.now(), info });
  return info;
}

async function load() {
  const [stats, repos, spaces, running, queued] = await Promise.all([
    api('/v1/stats'), api('/v1/repos').catch(() => ({ repos: [] })), api('/v1/spaces'),
    api('/v1/jobs?state=running&limit=50').catch(() => ({ jobs: [] })),
    api('/v1/jobs?state=queued&limit=50').catch(() => ({ jobs: [] })),
  ]);
  const shown = spaces.spaces.slice(0, 200);
  const indexes = await Promise.all(shown.map(indexOf));
  shown.forEach((s, i) => { s.index = indexes[i]; });
  return { stats, repos: repos.repos, spaces: shown, allSpaces: spaces.spaces.length, jobs: [...running.jobs, ...queued.jobs] };
}

function view(d) {
  const st = d.stats.store;
  const cards = h('div', { class: 'stats' }, STATS.map(([key, label]) =>
    h('div', { class: 'stat', 'data-stat': key, 'data-value': String(st[key]) },
      h('b', {}, key === 'database_bytes' ? bytes(st[key]) : fmt(st[key])), h('span', {}, label))));
  const jobCounts = Object.entries(st.jobs || {}).map(([k, v]) => `${k} ${v}`).join(' · ') || 'no jobs';

  const repos = table('repos', [
    { key: 'name', label: 'repository', show: (v) => h('a', { href: `#/explorer?repo=${encodeURIComponent(v)}` }, v) },
    { key: 'functions', num: true },
    { key: 'duplicates', label: 'duplicates', num: true },
    { key: 'duplicate_share', label: 'duplicate share', num: true,
      value: (r) => (r.duplicates === undefined || !r.functions ? null : r.duplicates / r.functions),
      show: (v) => (v === null ? '–' : (v * 100).toFixed(1) + ' %') },
    { key: 'updated_at', label: 'last ingest', show: when },
    { key: 'path', show: (v) => h('code', {}, v || '') },
  ], d.repos, { id: (r) => r.name, empty: 'no repositories: start an ingest from Run' });

  const spaces = table('spaces', [
    { key: 'name', label: 'space', show: (v) => h('code', {}, v) },
    { key: 'model' }, { key: 'layer', num: true }, { key: 'kind' }, { key: 'dim', num: true },
    { key: 'count', num: true }, { key: 'stale', num: true },
    { key: 'index_factory', label: 'index', value: (s) => (s.index ? s.index.factory : s.index_factory) },
    { key: 'index_state', label: 'index state',
      value: (s) => (!s.index ? (s.kind.endsWith('_tokens') ? 'none (tokens)' : 'not built') : s.index.calibrating ? 'calibrating' : 'ready'),
      show: (v, s) => (s.index ? `${v} · ${fmt(s.index.count)} vectors · gen ${s.index.generation}` : v) },
  ], d.spaces, { id: (s) => s.name, empty: 'no spaces: embed the corpus from Run' });

  const running = table('running-jobs', [
    { key: 'id', num: true, show: (v) => h('a', { href: `#/jobs/${v}` }, '#' + v) },
    { key: 'type' }, { key: 'state', show: state },
    { key: 'progress', num: true, show: (v) => h('span', {}, bar(v), ` ${Math.round(v * 100)} %`) },
    { key: 'message' },
  ], d.jobs, { href: (j) => `#/jobs/${j.id}`, empty: 'no running or queued jobs' });

  return [
    h('section', {}, h('h2', {}, 'Store'), cards, h('p', { class: 'muted' }, 'jobs: ', jobCounts,
      ` · up ${Math.round(d.stats.uptime_seconds)} s · ${d.stats.backend} · v${d.stats.version}`)),
    h('section', {}, h('h2', {}, 'Running and queued jobs'), running),
    h('section', { class: 'wide' }, h('h2', {}, 'Repositories'), repos),
    h('section', { class: 'wide' }, h('h2', {}, 'Spaces', d.allSpaces > d.spaces.length ? ` (first ${d.spaces.length} of ${d.allSpaces})` : ''), spaces),
  ];
}

export async function render(ctx) {
  const grid = h('div', { class: 'grid' });
  ctx.main.append(h('h1', {}, 'Overview'), grid);
  grid.replaceChildren(...view(await load()));
  ctx.every(3000, async () => {
    const d = await load();
    if (ctx.active) grid.replaceChildren(...view(d));
  });
}
