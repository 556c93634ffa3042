// job.js — #/jobs/<id>: a job's state and progress, one chart per metric series (growing live from
// the job's server-sent events), the log tail, params and result; cancel, and re-queue (a new job of
// the same type and params).

import { api, post, events, OfflineError } from './api.js';
import { lineChart } from './chart.js';
import { h, json, when, bar, state } from './ui.js';
import { showError } from './router.js';

const LOG_TAIL = 200;

export async function render(ctx) {
  const id = ctx.args[0];
  const [job, metrics, logs] = await Promise.all([
    api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/metrics`), api(`/v1/jobs/${id}/logs?limit=10000`),
  ]);

  const head = h('div', { class: 'job-head' });
  const chartsBox = h('div', { class: 'charts' });
  const logBox = h('pre', { class: 'log', 'data-testid': 'job-log' });
  const paramsBox = h('div'), resultBox = h('div');
  ctx.main.append(
    h('h1', {}, `Job #${id} `, h('small', { class: 'muted' }, job.type)),
    h('section', {}, head),
    h('section', {}, h('h2', {}, 'Metrics'), chartsBox),
    h('div', { class: 'grid' },
      h('section', {}, h('h2', {}, 'Params'), paramsBox),
      h('section', {}, h('h2', {}, 'Result'), resultBox)),
    h('section', {}, h('h2', {}, `Log (last ${LOG_TAIL} lines)`), logBox),
  );

  // ---- header: state, progress, buttons ----
  let current = job;
  function drawHead() {
    const j = current;
    const cancel = h('button', { type: 'button', 'data-testid': 'job-cancel', disabled: !['queued', 'running'].includes(j.state),
      onclick: async () => { try { current = await post(`/v1/jobs/${id}/cancel`); drawHead(); } catch (e) { showError(e); } } }, 'cancel');
    const requeue = h('button', { type: 'button', 'data-testid': 'job-requeue',
      onclick: async () => {
        try {
          const created = await post('/v1/jobs', { ...j.params, type: j.type, max_attempts: j.max_attempts });
          location.hash = `#/jobs/${created.id}`;
        } catch (e) { showError(e); }
      } }, 're-queue');
    head.replaceChildren(
      h('p', {}, state(j.state), ' ', bar(j.progress), ` ${Math.round(j.progress * 100)} % `, h('span', { 'data-testid': 'job-message' }, j.message || '')),
      j.error ? h('p', { class: 'failed' }, j.error) : '',
      h('p', { class: 'muted' }, `attempt ${j.attempt}/${j.max_attempts} · created ${when(j.created_at)} · started ${when(j.started_at)} · finished ${when(j.finished_at)}${j.worker ? ' · worker ' + j.worker : ''}`),
      h('p', {}, cancel, ' ', requeue),
    );
    paramsBox.replaceChildren(json(j.params));
    resultBox.replaceChildren(j.result === null || j.result === undefined ? h('p', { class: 'muted' }, 'no result yet') : json(j.result));
  }
  drawHead();

  // ---- charts: one per series ----
  const series = {};   // name → { steps, values, chart }
  function addSeries(name, steps, values) {
    const chart = lineChart(chartsBox, { metric: name, xLabel: 'step' });
    series[name] = { steps, values, chart };
    chart.draw([{ name, x: steps, y: values }]);
  }
  function drawAll(data) {
    chartsBox.replaceChildren();
    for (const k of Object.keys(series)) delete series[k];
    for (const [name, s] of Object.entries(data.series)) addSeries(name, [...s.steps], [...s.values]);
    if (!Object.keys(data.series).length) chartsBox.append(h('p', { class: 'muted', 'data-testid': 'no-metrics' }, 'no metrics recorded'));
  }
  drawAll(metrics);

  // ---- log tail ----
  let lines = logs.logs.map((l) => `${when(l.at)} ${l.level.padEnd(7)} ${l.message}`);
  const drawLog = () => { logBox.textContent = lines.slice(-LOG_TAIL).join('\n'); logBox.scrollTop = logBox.scrollHeight; };
  drawLog();

  if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return;

  // ---- live: the event stream replays everything from the start, so points and lines already
  // shown are skipped by counting them per series. ----
  const follow = async () => {
    const seen = {};
    let logSeen = 0;
    const initialLogs = lines.length;
    try {
      await events(`/v1/jobs/${id}/events`, (name, data) => {
        if (!ctx.active) return;
        if (name === 'metric') {
          seen[data.name] = (seen[data.name] || 0) + 1;
          const s = series[data.name];
          if (!s) { chartsBox.querySelector('[data-testid=no-metrics]')?.remove(); addSeries(data.name, [data.step], [data.value]); return; }
          if (seen[data.name] <= s.steps.length) return;
          s.steps.push(data.step); s.values.push(data.value);
          s.chart.draw([{ name: data.name, x: s.steps, y: s.values }]);
        } else if (name === 'log') {
          logSeen += 1;
          if (logSeen <= initialLogs) return;
          lines.push(`${when(Date.now() / 1000)} ${data.level.padEnd(7)} ${data.message}`);
          drawLog();
        } else if (name === 'progress') {
          current = { ...current, progress: data.progress, message: data.message };
          drawHead();
        } else if (name === 'state') {
          const now = Date.now() / 1000;
          current = { ...current, state: data.state, attempt: data.attempt, error: data.error,
            started_at: current.started_at || (data.state === 'running' ? now : null) };
          drawHead();
        }
      }, ctx.signal);
    } catch (e) {
      // Aborted: the user left. Offline: the router renders the page again once the server is back.
      if (ctx.signal.aborted || e instanceof OfflineError) return;
      showError(e);
    }
    if (!ctx.active) return;
    // Ended (final state) or dropped: read everything again, exactly as the API has it.
    try {
      const [j, m, l] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/metrics`), api(`/v1/jobs/${id}/logs?limit=10000`)]);
      if (!ctx.active) return;
      current = j; drawHead(); drawAll(m);
      lines = l.logs.map((x) => `${when(x.at)} ${x.level.padEnd(7)} ${x.message}`);
      drawLog();
      if (['succeeded', 'failed', 'cancelled'].includes(j.state)) return;
    } catch (e) {
      if (e instanceof OfflineError) return;
      showError(e);
    }
    setTimeout(() => { if (ctx.active) follow(); }, 2000);
  };
  follow();
}
