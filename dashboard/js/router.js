// router.js — hash routes (`#/jobs/12`, `#/functions/3?space=m.L3.body_mean`) to page modules, and
// the contract's readiness flags.
//
//   import { start } from './router.js';
//   start({ overview: { pattern: /^overview$/, page: overview }, … }, 'overview');
//
// A page module exports `render(ctx)` (async): ctx = { main, args, query, every(ms, fn), live(signal) }.
// The router sets `<html data-route data-ready="0">` before and `data-ready="1"` after the first render,
// clears the page's timers and aborts its streams on the next navigation, and renders again after
// the server comes back (api.js `onReconnect`).

import { onReconnect, OfflineError } from './api.js';

let current = null;

/** Shows `error` in the banner (the place for errors a page could not show in place). */
export function showError(error) {
  if (error instanceof OfflineError) return;  // the connection badge says it
  const banner = document.querySelector('[data-testid=error-banner]');
  banner.textContent = String(error && error.message ? error.message : error);
  banner.hidden = false;
}

export function clearError() {
  const banner = document.querySelector('[data-testid=error-banner]');
  banner.hidden = true;
  banner.textContent = '';
}

/**
 * Runs a user-started reload of the page's data (a search, another space, a form submit) with
 * `data-ready="0"` until it is drawn, like a navigation; errors go to the banner.
 *
 *   input.addEventListener('input', () => working(search));
 */
export async function working(fn) {
  const root = document.documentElement;
  const mine = current, hash = location.hash;
  root.dataset.ready = '0';
  try { return await fn(); } catch (e) { showError(e); } finally {
    // A reload that navigated (a submitted form opening its job) leaves readiness to the navigation.
    if (current === mine && location.hash === hash) root.dataset.ready = '1';
  }
}

/** The route of a hash: { path: 'jobs/12', query: URLSearchParams }. */
export function parse(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const q = text.indexOf('?');
  return { path: q >= 0 ? text.slice(0, q) : text, query: new URLSearchParams(q >= 0 ? text.slice(q + 1) : '') };
}

export function start(routes, fallback) {
  const render = async () => {
    if (current) current.stop();
    const { path, query } = parse(location.hash);
    let name = null, args = null;
    for (const [n, r] of Object.entries(routes)) {
      const m = path.match(r.pattern);
      if (m) { name = n; args = m.slice(1); break; }
    }
    if (!name) { location.replace('#/' + fallback); return; }
    const root = document.documentElement;
    root.dataset.ready = '0';
    root.dataset.route = name;
    clearError();
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === (routes[name].nav || name));

    const timers = [], controller = new AbortController();
    const me = {
      stop() { timers.forEach(clearInterval); controller.abort(); },
    };
    current = me;
    const main = document.getElementById('page');
    main.replaceChildren();
    const ctx = {
      main, args, query, signal: controller.signal,
      /** Runs `fn` every `ms` while this page is shown (errors go to the banner). */
      every(ms, fn) {
        timers.push(setInterval(async () => {
          if (current !== me) return;
          try { await fn(); } catch (e) { if (!controller.signal.aborted) showError(e); }
        }, ms));
      },
      get active() { return current === me; },
    };
    try {
      await routes[name].page.render(ctx);
    } catch (e) {
      if (current === me) showError(e);
    }
    if (current === me) root.dataset.ready = '1';
  };
  window.addEventListener('hashchange', render);
  onReconnect(render);
  render();
}
