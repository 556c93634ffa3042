// chart.js — the one chart helper: an SVG line chart with axes, ticks, a legend, several series and
// the values under the mouse.
//
//   import { lineChart } from './chart.js';
//   const chart = lineChart(container, { metric: 'loss', xLabel: 'step' });
//   chart.draw([{ name: 'loss', x: [1, 2, 3], y: [0.9, 0.7, 0.6] }]);   // again with more points to grow it
//
// The SVG is `<svg class="chart" data-metric="…">`; each series is a `<g data-series="…"
// data-points="N">` (N = the points drawn, every point given).

const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
const W = 560, H = 260, M = { left: 56, right: 16, top: 14, bottom: 38 };

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** A compact label for a number: 0.0123, 1.23e-5, 12 345. */
export function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}

/**
 * A chart in `container`. Options: `metric` (data-metric and title), `xLabel`, `yLabel`.
 * Returns `{ svg, draw(series) }`; `series` = [{ name, x: [...], y: [...] }] (null y values skipped).
 */
export function lineChart(container, { metric = '', xLabel = '', yLabel = '' } = {}) {
  const figure = document.createElement('figure');
  figure.className = 'chart-box';
  const caption = document.createElement('figcaption');
  caption.textContent = metric;
  figure.appendChild(caption);
  const svg = el('svg', { class: 'chart', 'data-metric': metric, viewBox: `0 0 ${W} ${H}`, role: 'img' });
  figure.appendChild(svg);
  const legend = document.createElement('div');
  legend.className = 'legend';
  figure.appendChild(legend);
  container.appendChild(figure);
  let current = [];

  function draw(series) {
    current = series;
    svg.replaceChildren();
    legend.replaceChildren();
    const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y).filter((v) => v !== null && Number.isFinite(v));
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (!xs.length) { x0 = 0; x1 = 1; }
    if (!ys.length) { y0 = 0; y1 = 1; }
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    const pad = (y1 - y0) * 0.05;
    y0 -= pad; y1 += pad;
    const sx = (x) => M.left + (W - M.left - M.right) * (x - x0) / (x1 - x0);
    const sy = (y) => H - M.bottom - (H - M.top - M.bottom) * (y - y0) / (y1 - y0);

    const axes = el('g', { class: 'axes' }, svg);
    el('line', { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom }, axes);
    el('line', { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom }, axes);
    for (const t of ticks(x0, x1, 6)) {
      el('line', { class: 'grid', x1: sx(t), y1: M.top, x2: sx(t), y2: H - M.bottom }, axes);
      el('text', { x: sx(t), y: H - M.bottom + 14, 'text-anchor': 'middle' }, axes).textContent = fmt(t);
    }
    for (const t of ticks(y0, y1, 5)) {
      el('line', { class: 'grid', x1: M.left, y1: sy(t), x2: W - M.right, y2: sy(t) }, axes);
      el('text', { x: M.left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, axes).textContent = fmt(t);
    }
    if (xLabel) el('text', { x: (M.left + W - M.right) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, axes).textContent = xLabel;
    if (yLabel) el('text', { x: 12, y: M.top + 6, class: 'label' }, axes).textContent = yLabel;

    series.forEach((s, i) => {
      const color = s.color || COLORS[i % COLORS.length];
      const g = el('g', { 'data-series': s.name, 'data-points': String(s.x.length), stroke: color, fill: color }, svg);
      let d = '';
      s.x.forEach((x, j) => {
        const y = s.y[j];
        if (y === null || !Number.isFinite(y)) return;
        d += (d ? 'L' : 'M') + sx(x).toFixed(1) + ',' + sy(y).toFixed(1);
      });
      el('path', { d, fill: 'none', 'stroke-width': 1.8 }, g);
      if (s.x.length <= 60) s.x.forEach((x, j) => { if (Number.isFinite(s.y[j])) el('circle', { cx: sx(x), cy: sy(s.y[j]), r: 2.5 }, g); });
      const item = document.createElement('span');
      item.innerHTML = `<i style="background:${color}"></i>`;
      item.append(s.name);
      legend.appendChild(item);
    });

    // Hover: a vertical rule at the nearest x and every series' value there.
    const hover = el('g', { class: 'hover', visibility: 'hidden' }, svg);
    const rule = el('line', { y1: M.top, y2: H - M.bottom }, hover);
    const box = el('rect', { rx: 3, height: 16 }, hover);
    const label = el('text', {}, hover);
    const overlay = el('rect', { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, fill: 'transparent' }, svg);
    overlay.addEventListener('mousemove', (ev) => {
      const r = svg.getBoundingClientRect();
      const px = (ev.clientX - r.left) * W / r.width;
      const x = x0 + (px - M.left) / (W - M.left - M.right) * (x1 - x0);
      let best = null;
      for (const s of current) for (const v of s.x) if (best === null || Math.abs(v - x) < Math.abs(best - x)) best = v;
      if (best === null) return;
      const parts = current.map((s) => { const j = s.x.indexOf(best); return j >= 0 ? `${s.name} ${fmt(s.y[j])}` : null; }).filter(Boolean);
      label.textContent = `${xLabel || 'x'} ${fmt(best)}: ${parts.join(' · ')}`;
      const lx = Math.min(sx(best) + 6, W - M.right - label.textContent.length * 6.2);
      rule.setAttribute('x1', sx(best)); rule.setAttribute('x2', sx(best));
      label.setAttribute('x', lx + 4); label.setAttribute('y', M.top + 12);
      box.setAttribute('x', lx); box.setAttribute('y', M.top); box.setAttribute('width', label.textContent.length * 6.2 + 8);
      hover.setAttribute('visibility', 'visible');
    });
    overlay.addEventListener('mouseleave', () => hover.setAttribute('visibility', 'hidden'));
  }

  return { svg, figure, draw };
}
