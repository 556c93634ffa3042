// ui.js — small DOM helpers the pages share: elements, tables in the contract's shape, numbers.
//
//   import { h, table, fmt } from './ui.js';
//   main.append(h('h2', {}, 'Spaces'));
//   main.append(table('spaces', [{ key: 'name' }, { key: 'count', num: true }], rows, { id: (r) => r.name }));

export { fmt } from './chart.js';
import { fmt } from './chart.js';

/** An element: `h('a', { href: '#/x', class: 'c' }, 'text', child, …)`; `on*` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** The contract's raw value of a cell: numbers as JS prints them, strings as is, objects as JSON. */
export function raw(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A Unix time as local date and time. */
export function when(seconds) {
  if (!seconds) return '–';
  const d = new Date(seconds * 1000);
  return d.toLocaleDateString('en-CA') + ' ' + d.toLocaleTimeString('en-GB');
}

/** Bytes as KiB / MiB / GiB. */
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

/**
 * A table in the contract's shape: `<table data-testid>`, rows `<tr data-id>`, cells
 * `<td data-col data-value>`. Columns: `{ key, label?, value?(row), show?(value,row) → text|Node, num? }`
 * (`value` defaults to `row[key]`). Options: `id(row)` → data-id, `href(row)` → the row links there,
 * `sort` → clicking a header sorts by it (numbers numerically), `empty` → text when no rows.
 */
export function table(testid, columns, rows, { id = (r) => r.id, href, sort = false, empty = 'nothing yet' } = {}) {
  const t = h('table', { 'data-testid': testid });
  const head = h('tr');
  const body = h('tbody');
  // The "nothing" line sits in <tfoot>: <tbody> holds data rows only (the contract counts them).
  const foot = h('tfoot');
  let order = null;
  const fill = (list) => {
    body.replaceChildren();
    foot.replaceChildren();
    if (!list.length) foot.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length, class: 'muted' }, empty)));
    for (const r of list) {
      const tr = h('tr', { 'data-id': raw(id(r)) });
      if (href) {
        tr.classList.add('link');
        tr.addEventListener('click', (ev) => { if (!ev.target.closest('a,button,input,select')) location.hash = href(r); });
      }
      for (const c of columns) {
        const v = c.value ? c.value(r) : r[c.key];
        const shown = c.show ? c.show(v, r) : (typeof v === 'number' ? fmt(v) : raw(v));
        tr.append(h('td', { 'data-col': c.key, 'data-value': raw(v), class: c.num ? 'num' : null }, shown));
      }
      body.append(tr);
    }
  };
  for (const c of columns) {
    const th = h('th', { class: c.num ? 'num' : null, 'data-col': c.key }, c.label || c.key);
    if (sort) {
      th.classList.add('sortable');
      th.addEventListener('click', () => {
        const dir = order && order.key === c.key ? -order.dir : (c.num ? -1 : 1);
        order = { key: c.key, dir };
        const get = (r) => (c.value ? c.value(r) : r[c.key]);
        const sorted = [...rows].sort((a, b) => {
          const x = get(a), y = get(b);
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          return (x < y ? -1 : 1) * dir;
        });
        for (const o of head.children) o.removeAttribute('aria-sort');
        th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        fill(sorted);
      });
    }
    head.append(th);
  }
  t.append(h('thead', {}, head), body, foot);
  fill(rows);
  return t;
}

/** A JSON value, pretty-printed in a <pre>. */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

/** A progress bar for a fraction 0…1. */
export function bar(fraction) {
  const pct = Math.round((fraction || 0) * 100);
  return h('span', { class: 'bar', title: pct + ' %' }, h('i', { style: `width:${pct}%` }));
}

/** The state of a job as a coloured badge. */
export function state(s) { return h('span', { class: 'state ' + s }, s); }
