// main.js — the page's entry module: the routes of the contract and their page modules.
//
//   <script type="module" src="/dashboard/js/main.js"></script>

import { start } from './router.js';
import { api } from './api.js';
import * as overview from './overview.js';
import * as jobs from './jobs.js';
import * as job from './job.js';
import * as probes from './probes.js';
import * as students from './students.js';
import * as explorer from './explorer.js';
import * as fn from './function.js';
import * as run from './run.js';

start({
  overview: { pattern: /^overview$/, page: overview },
  jobs: { pattern: /^jobs$/, page: jobs },
  job: { pattern: /^jobs\/(\d+)$/, page: job, nav: 'jobs' },
  probes: { pattern: /^probes$/, page: probes },
  students: { pattern: /^students$/, page: students },
  explorer: { pattern: /^explorer$/, page: explorer },
  function: { pattern: /^functions\/(\d+)$/, page: fn, nav: 'explorer' },
  run: { pattern: /^run$/, page: run },
}, 'overview');

api('/healthz').then((h) => {
  document.getElementById('version').textContent = `v${h.version} · ${h.store}`;
}).catch(() => {});
