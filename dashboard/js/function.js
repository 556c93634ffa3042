// function.js — #/functions/<id>[?space=<name>]: a function's code (signature and body marked), its
// properties, and its nearest neighbours in a chosen space (`POST /v1/spaces/{space}/search` with
// `{"function_ids":[id],"k":10}`), each neighbour's code beside it; for a student space, where the
// function's true body ranks among all bodies of the student's target space.

import { api, post } from './api.js';
import { h, table, fmt, raw } from './ui.js';
import { working } from './router.js';

const K = 10;

/** The code of a function: signature and body, each marked. */
function code(f, testids = true) {
  return h('pre', { class: 'code', 'data-testid': testids ? 'function-code' : null },
    h('span', { class: 'signature', 'data-testid': testids ? 'function-signature' : null }, f.signature),
    '\n',
    h('span', { class: 'body', 'data-testid': testids ? 'function-body' : null }, f.body));
}

/** The history counts an ingest of a git repository adds to the properties (`commits`, `authors`,
 *  `file_commits`), as one line. */
function history(p) {
  if (p.commits === undefined) return h('p', { class: 'muted', 'data-testid': 'history' }, 'history: none recorded (not ingested from git history)');
  return h('p', { 'data-testid': 'history' }, h('b', {}, 'history: '),
    `${fmt(p.commits)} commits touched its lines, by ${fmt(p.authors)} authors; ${fmt(p.file_commits)} commits of its file`);
}

/** Whether `space` holds a vector for function `id`. */
async function holds(space, id) {
  try {
    const v = await api(`/v1/spaces/${encodeURIComponent(space)}/vectors?ids=${id}&format=json`);
    return Array.isArray(v.ids) && v.ids.length > 0;
  } catch (_) { return false; }
}

/** For a student space: the rank of the function's own body among the target space's bodies. */
async function trueBodyRank(space, id) {
  const { jobs } = await api('/v1/jobs?type=train&state=succeeded&limit=1000');
  const job = jobs.find((j) => j.result && j.result.output_space === space);
  if (!job) return null;
  const target = job.result.target_space;
  const v = await api(`/v1/spaces/${encodeURIComponent(space)}/vectors?ids=${id}&format=json`);
  if (!v.vectors || !v.vectors.length) return null;
  const answer = await post(`/v1/spaces/${encodeURIComponent(target)}/search`, { vectors: [v.vectors[0]], k: 1000, fields: 'ids' });
  const hits = answer.results[0].hits;
  const at = hits.findIndex((x) => x.id === Number(id));
  return { target, job: job.id, rank: at >= 0 ? at + 1 : null, of: hits.length };
}

export async function render(ctx) {
  const id = ctx.args[0];
  const [f, spaces] = await Promise.all([api(`/v1/functions/${id}`), api('/v1/spaces')]);
  const searchable = spaces.spaces.filter((s) => !s.kind.endsWith('_tokens') && s.count > 0);

  let space = ctx.query.get('space') || '';
  if (!space) {
    for (const s of searchable) if (await holds(s.name, id)) { space = s.name; break; }
  }

  const select = h('select', { 'data-testid': 'neighbour-space' },
    searchable.map((s) => h('option', { value: s.name, selected: s.name === space }, `${s.name} (${s.kind})`)));
  if (space && !searchable.some((s) => s.name === space)) select.append(h('option', { value: space, selected: true }, space));
  const neighbourBox = h('div'), sideBox = h('div', { class: 'side' }), rankBox = h('p', { class: 'muted', 'data-testid': 'true-body-rank' });

  const props = Object.entries(f.properties || {});
  ctx.main.append(
    h('h1', {}, f.qualified_name, ' ', h('small', { class: 'muted' }, `#${f.id}`)),
    h('p', {}, h('a', { href: `#/explorer?repo=${encodeURIComponent(f.repo)}` }, f.repo), ' · ', h('code', {}, `${f.path}:${f.start_line}–${f.end_line}`), ` · ${f.language}`),
    h('div', { class: 'grid' },
      h('section', {}, h('h2', {}, 'Code'), code(f)),
      h('section', {}, h('h2', {}, 'Properties'),
        props.length ? h('table', { class: 'props', 'data-testid': 'properties' }, h('tbody', {}, props.map(([k, v]) =>
          h('tr', { 'data-id': k }, h('th', {}, k), h('td', { 'data-col': 'value', 'data-value': raw(v) }, typeof v === 'number' ? fmt(v) : raw(v)))))) : h('p', { class: 'muted' }, 'none'),
        history(f.properties || {}),
        h('p', { class: 'muted' }, `content ${f.content_hash.slice(0, 12)} · body ${f.body_hash.slice(0, 12)}`))),
    h('section', {}, h('h2', {}, 'Nearest neighbours'), h('p', {}, 'space ', select), rankBox,
      h('div', { class: 'grid' }, neighbourBox, sideBox)),
  );

  async function showSide(hitId) {
    const g = await api(`/v1/functions/${hitId}`);
    sideBox.replaceChildren(h('h3', {}, h('a', { href: `#/functions/${g.id}` }, g.qualified_name), ' ', h('small', { class: 'muted' }, `${g.repo} · ${g.path}`)),
      code(g, false));
  }

  async function neighbours() {
    space = select.value;
    neighbourBox.replaceChildren(); sideBox.replaceChildren(); rankBox.textContent = '';
    if (!space) { neighbourBox.append(h('p', { class: 'muted' }, 'no space holds vectors yet')); return; }
    const answer = await post(`/v1/spaces/${encodeURIComponent(space)}/search`, { function_ids: [Number(id)], k: K });
    const hits = answer.results[0] ? answer.results[0].hits : [];
    neighbourBox.append(table('neighbours', [
      { key: 'rank', num: true, value: (x) => hits.indexOf(x) + 1 },
      { key: 'score', num: true },
      { key: 'repo' },
      { key: 'qualified_name', label: 'function', show: (v, x) => h('a', { href: `#/functions/${x.id}?space=${encodeURIComponent(space)}` }, v) },
      { key: 'path', show: (v) => h('code', {}, v) },
    ], hits, { empty: 'no neighbours' }));
    for (const tr of neighbourBox.querySelectorAll('tbody tr[data-id]')) {
      tr.classList.add('link');
      tr.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;
        for (const o of neighbourBox.querySelectorAll('tr.selected')) o.classList.remove('selected');
        tr.classList.add('selected');
        showSide(tr.dataset.id);
      });
    }
    if (hits.length) { neighbourBox.querySelector('tbody tr').classList.add('selected'); await showSide(hits[0].id); }
    const kind = (spaces.spaces.find((s) => s.name === space) || {}).kind;
    if (kind === 'student') {
      const r = await trueBodyRank(space, id).catch(() => null);
      if (r) rankBox.textContent = r.rank ? `true body ranks ${r.rank} of all bodies in ${r.target} (train job #${r.job})`
        : `true body is not in the top ${r.of} of ${r.target} (train job #${r.job})`;
    }
  }

  select.addEventListener('change', () => {
    history.replaceState(null, '', `#/functions/${id}?space=${encodeURIComponent(select.value)}`);
    working(neighbours);
  });
  await neighbours();
}
