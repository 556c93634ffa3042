// explorer.js — #/explorer: find functions by name or path substring (`q`), repository and path
// prefix, 50 per page with the API's cursor (`next_cursor`); the query lives in the hash
// (`#/explorer?q=json&repo=stdlib`), so a search is deep-linkable. A row opens the function page.

import { api } from './api.js';
import { h, table } from './ui.js';
import { working, showError } from './router.js';

const PAGE = 50;

export async function render(ctx) {
  const q = ctx.query.get('q') || '', repo = ctx.query.get('repo') || '', path = ctx.query.get('path') || '';
  const { repos } = await api('/v1/repos').catch(() => ({ repos: [] }));

  const input = h('input', { 'data-testid': 'explorer-query', type: 'search', value: q, size: 40, placeholder: 'name or path substring', autofocus: true });
  const pathInput = h('input', { 'data-testid': 'explorer-path', type: 'search', value: path, size: 24, placeholder: 'path prefix' });
  const repoSelect = h('select', { 'data-testid': 'explorer-repo' }, h('option', { value: '' }, 'every repository'),
    repos.map((r) => h('option', { value: r.name, selected: r.name === repo }, `${r.name} (${r.functions})`)));
  const holder = h('div');
  const prev = h('button', { type: 'button', disabled: true }, '‹ previous');
  const next = h('button', { type: 'button', disabled: true }, 'next ›');
  const info = h('span', { class: 'muted' });
  ctx.main.append(h('h1', {}, 'Explorer'), h('section', {},
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); remember(); working(search); } }, input, ' ', repoSelect, ' ', pathInput, ' ', h('button', { type: 'submit' }, 'find')),
    holder, h('p', {}, prev, ' ', next, ' ', info)));

  const cursors = [''];   // cursors[i] = the cursor of page i
  let page = 0, generation = 0;

  async function load() {
    const mine = ++generation;
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (input.value) params.set('q', input.value);
    if (repoSelect.value) params.set('repo', repoSelect.value);
    if (pathInput.value) params.set('path', pathInput.value);
    if (cursors[page]) params.set('cursor', cursors[page]);
    const answer = await api('/v1/functions?' + params);
    if (mine !== generation || !ctx.active) return;
    holder.replaceChildren(table('functions', [
      { key: 'id', num: true }, { key: 'repo' }, { key: 'path', show: (v) => h('code', {}, v) },
      { key: 'qualified_name', label: 'function', show: (v, f) => h('a', { href: `#/functions/${f.id}` }, v) },
      { key: 'start_line', label: 'lines', num: true, show: (v, f) => `${v}–${f.end_line}` },
      { key: 'language' },
    ], answer.functions, { href: (f) => `#/functions/${f.id}`, empty: 'no function matches' }));
    cursors[page + 1] = answer.next_cursor || null;
    prev.disabled = page === 0;
    next.disabled = !answer.next_cursor;
    info.textContent = `page ${page + 1} · ${answer.functions.length} functions`;
  }

  /** Keeps the hash in step with the inputs, without a re-render (replaceState fires no hashchange). */
  function remember() {
    const params = new URLSearchParams();
    if (input.value) params.set('q', input.value);
    if (repoSelect.value) params.set('repo', repoSelect.value);
    if (pathInput.value) params.set('path', pathInput.value);
    history.replaceState(null, '', '#/explorer' + (params.toString() ? '?' + params : ''));
  }

  /** The first page for the inputs. */
  function search() {
    cursors.length = 1; page = 0;
    return load();
  }

  // Typing marks the page not ready at once, and ready again when the last (debounced) answer is
  // drawn (an older answer arriving late does not count).
  let timer = null, typing = 0;
  const typed = () => {
    const mine = ++typing;
    document.documentElement.dataset.ready = '0';
    clearTimeout(timer);
    timer = setTimeout(async () => {
      remember();
      try { await search(); } catch (e) { showError(e); }
      if (mine === typing && ctx.active) document.documentElement.dataset.ready = '1';
    }, 250);
  };
  input.addEventListener('input', typed);
  pathInput.addEventListener('input', typed);
  repoSelect.addEventListener('change', () => { remember(); working(search); });
  prev.addEventListener('click', () => { if (page > 0) { page -= 1; working(load); } });
  next.addEventListener('click', () => { if (cursors[page + 1]) { page += 1; working(load); } });
  await load();
}
