// api.js — every call of the page to the JSON API goes through here.
//
//   import { api, post } from './api.js';
//   const stats = await api('/v1/stats');                 // parsed JSON, or throws ApiError
//   const job = await post('/v1/jobs', { type: 'embed', layers: [3] });
//
// - The token (sessionStorage["swejepa.token"]) is sent as `Authorization: Bearer …` when set; on a
//   401 the token dialog asks for it once, stores it and the call is retried.
// - API errors become `ApiError` (status, code, message from `{"error":{…}}`).
// - When the server does not answer, the connection badge says "reconnecting…", /healthz is polled
//   with backoff, and once it answers every `onReconnect` listener runs (the router reloads the page).

const TOKEN_KEY = 'swejepa.token';

/** An API answer that was not 2xx: `status`, `code` and `message` from the JSON error body. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** A failure to reach the server at all (it is down or restarting). */
export class OfflineError extends Error {}

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

function headers(extra = {}) {
  const h = { ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

let asking = null;
/** Shows the token dialog (once, whoever asks) and resolves when a token was entered. */
function askToken() {
  if (asking) return asking;
  const dialog = document.querySelector('[data-testid=token-dialog]');
  const input = dialog.querySelector('input[name=token]');
  asking = new Promise((resolve) => {
    dialog.querySelector('form').addEventListener('submit', () => {
      const value = input.value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      asking = null;
      resolve(value);
    }, { once: true });
    if (!dialog.open) dialog.showModal ? dialog.showModal() : dialog.setAttribute('open', '');
    input.focus();
  });
  return asking;
}

/** fetch with the token, the 401 dialog and the offline detection; returns the Response. */
export async function request(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(path, { ...options, headers: headers(options.headers) });
    } catch (e) {
      markOffline();
      throw new OfflineError('the server does not answer');
    }
    if (response.status === 401 && attempt < 3) {
      await askToken();
      continue;
    }
    return response;
  }
}

/** Parses the answer's JSON; throws ApiError for a non-2xx one. */
async function decode(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  if (!response.ok) {
    const e = body && body.error ? body.error : {};
    throw new ApiError(response.status, e.code || String(response.status), e.message || text || response.statusText, body);
  }
  return body;
}

/** GET (or any method) and the parsed JSON answer. */
export async function api(path, options = {}) {
  return decode(await request(path, options));
}

/** A JSON body sent with `method` (POST by default); the parsed JSON answer. */
export async function post(path, body, method = 'POST') {
  return decode(await request(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

/**
 * Server-sent events over fetch (EventSource cannot send the token): calls `onEvent(name, data)`
 * for each event until the stream ends or `signal` aborts. Resolves when the stream ends.
 *
 *   await events('/v1/jobs/7/events', (name, data) => …, controller.signal);
 */
export async function events(path, onEvent, signal) {
  const response = await request(path, { signal, headers: { Accept: 'text/event-stream' } });
  if (!response.ok) await decode(response);
  const reader = response.body.getReader();
  const utf8 = new TextDecoder();
  let buffer = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (signal && signal.aborted) throw e;
      markOffline();  // the server went away mid-stream
      throw new OfflineError('the event stream broke off');
    }
    const { value, done } = chunk;
    if (done) break;
    buffer += utf8.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      let parsed = data;
      try { parsed = JSON.parse(data); } catch (_) { /* plain text */ }
      onEvent(name, parsed);
    }
  }
}

// ---- connection state ----

const reconnectListeners = [];
let offline = false;

/** Runs `fn` each time the server answers again after being unreachable. */
export function onReconnect(fn) { reconnectListeners.push(fn); }

export function isOffline() { return offline; }

function setStatus(text, ok) {
  const el = document.querySelector('[data-testid=conn-status]');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('ok', ok);
  el.classList.toggle('down', !ok);
}

/** Starts polling /healthz with backoff (1 s, 2 s, … 10 s) until the server answers. */
function markOffline() {
  if (offline) return;
  offline = true;
  setStatus('reconnecting…', false);
  let delay = 1000;
  const probe = async () => {
    try {
      const r = await fetch('/healthz', { cache: 'no-store' });
      if (r.ok) {
        offline = false;
        setStatus('connected', true);
        for (const fn of reconnectListeners) fn();
        return;
      }
    } catch (_) { /* still down */ }
    delay = Math.min(delay * 2, 10000);
    setTimeout(probe, delay);
  };
  setTimeout(probe, delay);
}
