// run.js — #/run: one form per job type with its main parameters, defaults filled in (the Params
// structs of Sources/Jobs and TrainingConfig's settings). Submitting posts `POST /v1/jobs` (empty
// inputs left out) and opens the new job; a 4xx shows the API's message in the form and, when it
// names a field ('epochs' …), next to that field. The body is `{type, ...params}`: the API's shape.

import { api, post, ApiError } from './api.js';
import { h } from './ui.js';
import { working, showError } from './router.js';

// kind: text | int | number | bool | list (comma-separated strings) | layers ("all" or comma-separated ints)
// | choice (values) | space (a select of the store's spaces; `kinds` limits which).
const FORMS = {
  ingest: {
    title: 'Ingest a repository', help: 'A directory under one of the server\'s ingest roots (serve --ingest-root).',
    fields: [
      { key: 'path', kind: 'text', required: true, placeholder: '/path/to/repo' },
      { key: 'name', kind: 'text', placeholder: 'default: the folder name' },
      { key: 'history', kind: 'bool', value: 'true' },
      { key: 'skip_dirs', kind: 'list', placeholder: 'tests, docs' },
      { key: 'split', kind: 'choice', values: ['none', 'top_level'], value: 'none' },
    ],
  },
  embed: {
    title: 'Embed functions with the teacher', help: 'Writes one space per layer and kind (model.L<layer>.<kind>).',
    fields: [
      { key: 'model', kind: 'text', placeholder: 'default: $SWEJEPA_MODEL or all-MiniLM-L6-v2' },
      { key: 'layers', kind: 'layers', value: 'all', required: true },
      { key: 'kinds', kind: 'list', placeholder: 'default: sig_tokens, sig_mean, body_mean, body_only_mean (body_tokens only when named)' },
      { key: 'repo', kind: 'text', placeholder: 'default: every repository' },
      { key: 'batch_size', kind: 'int', value: '256' },
    ],
  },
  probe: {
    title: 'Linear probes of a space',
    fields: [
      { key: 'space', kind: 'space', required: true, exclude: ['sig_tokens', 'body_tokens'] },
      { key: 'targets', kind: 'text', placeholder: 'default: every known property (e.g. loc,is_async)' },
      { key: 'folds', kind: 'int', value: '5' },
      { key: 'group_by', kind: 'choice', values: ['repo', 'file', 'function'], value: 'repo' },
      { key: 'c', kind: 'number', value: '1' },
      { key: 'seed', kind: 'int', value: '0' },
      { key: 'sample', kind: 'int', placeholder: 'default: every function' },
    ],
  },
  layer_sweep: {
    title: 'Layer sweep (probe R², anisotropy, effective rank per layer)',
    fields: [
      { key: 'model', kind: 'text', placeholder: 'default: $SWEJEPA_MODEL or all-MiniLM-L6-v2' },
      { key: 'layers', kind: 'layers', value: 'all' },
      { key: 'kinds', kind: 'list', value: 'body_mean' },
      { key: 'sample', kind: 'int', value: '2000' },
      { key: 'seed', kind: 'int', value: '0' },
      { key: 'folds', kind: 'int', value: '5' },
      { key: 'group_by', kind: 'choice', values: ['repo', 'file', 'function'], value: 'repo' },
    ],
  },
  neighbours: {
    title: 'Neighbour lists of a space',
    fields: [
      { key: 'space', kind: 'space', required: true, exclude: ['sig_tokens', 'body_tokens'] },
      { key: 'k', kind: 'int', value: '10' },
      { key: 'exclude', kind: 'choice', values: ['repo', 'self'], value: 'repo' },
      { key: 'min_repositories', kind: 'int', value: '3' },
      { key: 'families', kind: 'int', value: '20' },
      { key: 'linkage', kind: 'choice', values: ['average', 'single'], value: 'average' },
      { key: 'min_similarity', kind: 'number', placeholder: 'default: the similarity_quantile of random pairs' },
      { key: 'similarity_quantile', kind: 'number', placeholder: '0.999' },
      { key: 'examples', kind: 'int', value: '5' },
    ],
  },
  train: {
    title: 'Train a student (signature → body)',
    fields: [
      { key: 'input_space', kind: 'space', required: true, prefer: 'sig_tokens' },
      { key: 'target_space', kind: 'space', required: true, prefer: 'body_mean', exclude: ['sig_tokens', 'body_tokens'] },
      { key: 'output_space', kind: 'text', placeholder: 'default: student.job-<job id>' },
      { key: 'split_by', kind: 'choice', values: ['repository', 'directory'], value: 'repository' },
      { key: 'model', kind: 'choice', values: ['sig_predictor', 'mlp'], value: 'sig_predictor' },
      { key: 'loss', kind: 'choice', values: ['info_nce', 'smooth_l1'], value: 'info_nce' },
      { key: 'epochs', kind: 'int', value: '10' },
      { key: 'batch_size', kind: 'int', value: '64' },
      { key: 'lr', kind: 'number', value: '0.0003' },
      { key: 'seed', kind: 'int', value: '0' },
      { key: 'patience', kind: 'int', value: '3' },
      { key: 'hard_negatives', kind: 'int', value: '0' },
      { key: 'd_model', kind: 'int', value: '512' },
      { key: 'heads', kind: 'int', value: '8' },
      { key: 'layers', kind: 'int', value: '2' },
      { key: 'dropout', kind: 'number', value: '0.1' },
      { key: 'temperature', kind: 'number', value: '0.07' },
    ],
  },
};

/** The JSON value of one input (undefined: left out). Numbers that do not parse are sent as text,
 *  so the API names the field in its error. */
export function valueOf(field, text) {
  const t = text.trim();
  if (t === '') return undefined;
  const num = (s) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s.trim());
  switch (field.kind) {
    case 'int': case 'number': return num(t);
    case 'bool': return t === 'true' ? true : t === 'false' ? false : t;
    case 'list': return t.split(',').map((s) => s.trim()).filter(Boolean);
    case 'layers': return t === 'all' ? 'all' : t.split(',').map(num);
    default: return t;
  }
}

function input(field, spaces) {
  const common = { name: field.key, id: 'f-' + field.key, required: field.required || null };
  if (field.kind === 'choice' || field.kind === 'bool') {
    const values = field.kind === 'bool' ? ['true', 'false'] : field.values;
    return h('select', common, values.map((v) => h('option', { value: v, selected: v === field.value }, v)));
  }
  if (field.kind === 'space') {
    const usable = spaces.filter((s) => !(field.exclude || []).includes(s.kind));
    const preferred = usable.find((s) => s.kind === field.prefer) || usable[0];
    return h('select', common, h('option', { value: '' }, '(choose a space)'),
      usable.map((s) => h('option', { value: s.name, selected: preferred && s.name === preferred.name }, s.name)));
  }
  return h('input', { ...common, type: 'text', value: field.value || '', placeholder: field.placeholder || '', size: 28 });
}

function form(type, spec, spaces) {
  const error = h('p', { class: 'form-error', 'data-testid': 'form-error', hidden: true });
  const f = h('form', { 'data-job-type': type, class: 'run-form', novalidate: true },
    h('h2', {}, h('code', {}, type), ' ', spec.title),
    spec.help ? h('p', { class: 'muted' }, spec.help) : '',
    h('div', { class: 'fields' }, spec.fields.map((field) => h('label', { for: 'f-' + field.key },
      h('span', { class: 'name' }, field.key, field.required ? ' *' : ''), input(field, spaces),
      h('span', { class: 'field-error', 'data-field': field.key })))),
    error,
    h('button', { type: 'submit' }, `start ${type}`));
  // Ids are per form: several forms share keys (`layers`, `seed`).
  for (const el of f.querySelectorAll('[id^="f-"]')) el.id = `${type}-${el.id}`;
  for (const el of f.querySelectorAll('label[for^="f-"]')) el.htmlFor = `${type}-${el.htmlFor}`;

  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    working(async () => {
      error.hidden = true; error.textContent = '';
      for (const e of f.querySelectorAll('.field-error')) e.textContent = '';
      const params = {};
      for (const field of spec.fields) {
        const v = valueOf(field, f.elements[field.key].value);
        if (v !== undefined) params[field.key] = v;
      }
      try {
        // The API takes the params beside `type` (not under a `params` key).
        const job = await post('/v1/jobs', { ...params, type });
        location.hash = `#/jobs/${job.id}`;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status >= 500) { showError(e); return; }
        error.textContent = e.message;
        error.hidden = false;
        const named = [...e.message.matchAll(/'([A-Za-z_][A-Za-z0-9_]*)'/g)].map((m) => m[1]);
        const key = named.find((n) => spec.fields.some((x) => x.key === n));
        if (key) f.querySelector(`.field-error[data-field="${key}"]`).textContent = e.message;
      }
    });
  });
  return f;
}

export async function render(ctx) {
  const { spaces } = await api('/v1/spaces');
  ctx.main.append(h('h1', {}, 'Run'),
    h('p', { class: 'muted' }, 'Start a job; empty fields take the server\'s default. The job page follows it live.'),
    h('div', { class: 'forms' }, Object.entries(FORMS).map(([type, spec]) => h('section', {}, form(type, spec, spaces)))));
}
