#!/usr/bin/env python3
"""The dashboard in a real headless Chromium against a real `swejepa serve` (issue 15); the server and
the seeded corpus are scripts/browser/live_server.py.

Seeds a small real corpus into a throwaway data directory: a fixed handful of modules of this
machine's Python standard library (one repository each), ingested, embedded with the default teacher
(layer 3, sig_mean and body_mean), one probe job and one short train job. The server runs with a
bearer token required for every read (`--auth reads`), so the page's token dialog is exercised first.
Then every page is driven through the DevTools protocol (scripts/browser/cdp.py) and checked against
the API, following the DOM contract in dashboard/README.md:

  token dialog · overview stats, repos and spaces = /v1/stats, /v1/repos, /v1/spaces · jobs list ·
  a train job's charts (points per series = /v1/jobs/{id}/metrics) · a running job's chart growing
  live · probes = /v1/probes ·
  leaderboard = the succeeded train jobs' result.test · explorer finds a function by name · its
  neighbours = POST /v1/spaces/{space}/search (ids and order) · a Run-form job appears and succeeds ·
  a bad parameter shows the API's error in the form · conn-status through a server restart ·
  no console errors on any page.

Screenshots of every page (1280×800) go to --out (default .build/test-output/dashboard/);
--update-docs also copies them to docs/img/dashboard-<page>.png (when every check passed). One PASS/FAIL line per check;
exit status 1 on any failure. The server and the browser are always stopped, temp dirs removed.

    python3 scripts/browser/dashboard_test.py [--binary .build/release/swejepa] [--update-docs]
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
from live_server import LAYER, MODEL, MODULES, STUDENT, TEACHER, Checks, Server, free_port, log, make_corpus, seed, seeded_jobs  # noqa: E402

FUNCTION_NAME = "dedent"           # the explorer looks for textwrap.dedent


# ---------------------------------------------------------------------------------------- page helpers
TABLE_JS = """(tid) => {
  const t = document.querySelector(`[data-testid="${tid}"]`);
  if (!t) return null;
  return [...t.querySelectorAll('tbody tr[data-id]')].map(tr => ({
    id: tr.dataset.id,
    cells: Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map(td => [td.dataset.col, td.dataset.value ?? null]))
  }));
}"""


class Page:
    def __init__(self, browser: Browser, server: Server, out: str):
        self.b, self.server, self.out = browser, server, out
        self.shots: dict[str, str] = {}
        self.error_mark = 0

    def goto(self, hash_route: str, route: str, timeout: float = 30) -> None:
        """Goes to `#/…` (same document when the page is loaded) and waits for ready=1 on `route`."""
        here = self.b.evaluate("[location.origin + location.pathname, location.hash]")
        if here == [self.server.base + "/", hash_route]:
            self.b.reload()                     # same route: a fresh load (no hashchange would fire)
        elif here[0] == self.server.base + "/":
            # Clear the flag first so the old page's "1" cannot be mistaken for the new one's.
            self.b.evaluate("delete document.documentElement.dataset.ready; true")
            self.b.evaluate(f"location.hash = {json.dumps(hash_route)}; true")
        else:
            self.b.navigate(f"{self.server.base}/{hash_route}")
        self.b.wait_ready(route, timeout=timeout)

    def table(self, tid: str):
        rows = self.b.evaluate(f"({TABLE_JS})({json.dumps(tid)})")
        assert rows is not None, f"no [data-testid={tid}] on the page"
        return rows

    def js_strings(self, values: list):
        """The values as the page's JavaScript prints them (String(v)); null stays None."""
        return self.b.evaluate(f"{json.dumps(values)}.map(v => v === null ? null : (typeof v === 'object' ? JSON.stringify(v) : String(v)))")

    def shot(self, page: str) -> None:
        self.b.pump_events(0.2)
        self.shots[page] = self.b.screenshot(os.path.join(self.out, f"dashboard-{page}.png"))

    def new_errors(self, allow=lambda e: False) -> list[dict]:
        self.b.pump_events(0.2)
        errs = self.b.errors[self.error_mark:]
        self.error_mark = len(self.b.errors)
        return [e for e in errs if not allow(e)]


def expect_rows(page: Page, tid: str, expected: dict[str, dict], required: list[str], ordered: list[str] | None = None,
                aliases: dict[str, str] | None = None) -> str:
    """The table's rows have exactly the expected ids (in `ordered` order when given), and each row's
    cells with an API field name carry that field's value as JavaScript prints it; `required` columns
    must be present (`aliases`: another column name accepted for one)."""
    rows = page.table(tid)
    got_ids = [r["id"] for r in rows]
    if ordered is not None:
        assert got_ids == ordered, f"{tid}: row ids {got_ids}, API order {ordered}"
    else:
        assert sorted(got_ids) == sorted(expected), f"{tid}: row ids {sorted(got_ids)}, API {sorted(expected)}"
    keys = sorted({k for v in expected.values() for k in v})
    flat = [v.get(k) for i in sorted(expected) for v in [expected[i]] for k in keys]
    js = dict(zip([(i, k) for i in sorted(expected) for k in keys], page.js_strings(flat)))
    compared = 0
    for r in rows:
        cells = r["cells"]
        for col in required:
            alias = (aliases or {}).get(col)
            assert col in cells or (alias and alias in cells), f"{tid} row {r['id']}: no cell data-col={col} (has {sorted(cells)})"
        for k in keys:
            col = k if k in cells else (aliases or {}).get(k)
            if col not in cells or k not in expected[r["id"]]:
                continue
            want = js[(r["id"], k)]
            if want is None and cells[col] in ("", None, "null"):
                continue
            assert cells[col] == want, f"{tid} row {r['id']} {col}: page {cells[col]!r}, API {want!r}"
            compared += 1
    return f"{len(rows)} rows, {compared} cells equal the API"


def retry(fn, attempts: int = 3, pause: float = 1.0):
    """fn() until it stops raising AssertionError (live values may move between page and API read)."""
    for i in range(attempts):
        try:
            return fn()
        except AssertionError:
            if i == attempts - 1:
                raise
            time.sleep(pause)


# ---------------------------------------------------------------------------------------- checks
def check_token_dialog(page: Page, token: str) -> str:
    b = page.b
    b.navigate(f"{page.server.base}/#/overview")
    b.evaluate("sessionStorage.clear(); true")
    b.navigate(f"{page.server.base}/#/overview")
    b.wait_for("(() => { const d = document.querySelector('[data-testid=token-dialog]');"
               " return !!d && d.getClientRects().length > 0; })()", what="a visible [data-testid=token-dialog]")
    page.shot("token")
    b.evaluate("document.querySelector('[data-testid=token-dialog] input[name=token]').focus(); true")
    b.insert_text(token)
    b.evaluate("document.querySelector('[data-testid=token-dialog] button[type=submit]').click(); true")
    b.wait_ready("overview")
    stored = b.evaluate('sessionStorage.getItem("swejepa.token")')
    assert stored == token, f'sessionStorage["swejepa.token"] is {stored!r}'
    hidden = b.evaluate("(() => { const d = document.querySelector('[data-testid=token-dialog]');"
                        " return !d || d.getClientRects().length === 0; })()")
    assert hidden, "the token dialog is still visible after entering the token"
    return "dialog shown on 401, token stored, overview loaded"


def check_overview(page: Page) -> list[tuple[str, callable]]:
    s = page.server

    def stats():
        page.goto("#/overview", "overview")
        dom = page.b.evaluate("Object.fromEntries([...document.querySelectorAll('[data-stat]')].map(e => [e.dataset.stat, e.dataset.value]))")
        keys = ["repositories", "functions", "spaces", "vectors", "duplicate_groups", "database_bytes"]
        api = s.get("/v1/stats")["store"]
        want = dict(zip(keys, page.js_strings([api[k] for k in keys])))
        missing = [k for k in keys if k not in dom]
        assert not missing, f"no [data-stat] for {missing}"
        diff = {k: (dom[k], want[k]) for k in keys if dom[k] != want[k]}
        assert not diff, f"page vs /v1/stats: {diff}"
        return ", ".join(f"{k}={want[k]}" for k in keys)

    def repos():
        api = s.get("/v1/repos")["repos"]
        return expect_rows(page, "repos", {r["name"]: r for r in api}, ["functions"])

    def spaces():
        api = s.get("/v1/spaces")["spaces"]
        return expect_rows(page, "spaces", {r["name"]: r for r in api}, ["count"], aliases={"count": "n_vectors"})

    return [("overview: stats = /v1/stats", lambda: retry(stats)),
            ("overview: repos table = /v1/repos", lambda: retry(repos)),
            ("overview: spaces table = /v1/spaces", lambda: retry(spaces))]


def check_jobs_list(page: Page, ids: dict) -> str:
    page.goto("#/jobs", "jobs")
    rows = page.table("jobs")
    got = {r["id"] for r in rows}
    want = {str(i) for i in ids.values()}
    assert want <= got, f"jobs table lacks {sorted(want - got)} (has {sorted(got)})"
    api = {str(j["id"]): j for j in page.server.get("/v1/jobs?limit=100")["jobs"]}
    states = {r["id"]: r["cells"].get("state") for r in rows if "state" in r["cells"]}
    wrong = {i: (st, api[i]["state"]) for i, st in states.items() if i in api and st != api[i]["state"]}
    assert not wrong, f"state cells differ from /v1/jobs: {wrong}"
    return f"{len(rows)} rows, the {len(want)} seeding jobs among them"


def check_job_charts(page: Page, job_id: int) -> str:
    page.goto(f"#/jobs/{job_id}", "job")
    series = page.server.get(f"/v1/jobs/{job_id}/metrics")["series"]
    assert series, f"job {job_id} has no metric series"
    charts = page.b.evaluate("""[...document.querySelectorAll('svg.chart[data-metric]')].map(c => ({
        metric: c.dataset.metric,
        series: [...c.querySelectorAll('g[data-series]')].map(g => ({name: g.dataset.series, points: g.dataset.points}))}))""")
    by_metric = {}
    for c in charts:
        by_metric.setdefault(c["metric"], []).append(c)
    problems = []
    for name, s in sorted(series.items()):
        n = len(s["values"])
        cs = by_metric.get(name)
        if not cs:
            problems.append(f"no chart data-metric={name!r}")
            continue
        gs = [g for c in cs for g in c["series"]]
        g = next((g for g in gs if g["name"] == name), gs[0] if len(gs) == 1 else None)
        if g is None:
            problems.append(f"chart {name!r}: no g[data-series] (series {[g['name'] for g in gs]})")
        elif g["points"] != str(n):
            problems.append(f"{name}: {g['points']} points drawn, API {n}")
    assert not problems, "; ".join(problems)
    return f"{len(series)} series, points per series equal /v1/jobs/{job_id}/metrics"


def check_job_live(page: Page, data: str) -> str:
    """A running job's chart grows without a reload: a `sleep` job parked after step 2 of 0…3
    (`hold_after_step`) is listed in running-jobs and shows 3 points, then, released, 4 — and its
    state — on the same document."""
    s, b = page.server, page.b
    job_id = s.submit({"type": "sleep", "seconds": 1, "steps": 4, "hold_after_step": 2})
    release = os.path.join(data, "diagnostics", f"sleep-{job_id}.release")
    try:
        return _job_live(page, job_id, release)
    finally:   # never leave the job parked: it would hold the only worker
        os.makedirs(os.path.dirname(release), exist_ok=True)
        open(release, "w").close()


def _job_live(page: Page, job_id: int, release: str) -> str:
    s, b = page.server, page.b
    deadline = time.monotonic() + 60
    while 2 not in s.get(f"/v1/jobs/{job_id}/metrics")["series"].get("step", {}).get("values", []):
        assert time.monotonic() < deadline, f"sleep job {job_id} did not reach step 2"
        time.sleep(0.1)
    parked = len(s.get(f"/v1/jobs/{job_id}/metrics")["series"]["step"]["values"])   # steps 0, 1, 2
    # Parked, it is running: the overview's running-jobs table lists it.
    page.goto("#/overview", "overview")
    b.wait_for(f"!!document.querySelector('[data-testid=running-jobs] tbody tr[data-id=\"{job_id}\"]')", timeout=15,
               what=f"job {job_id} in table running-jobs")
    state = {r["id"]: r["cells"].get("state") for r in page.table("running-jobs")}.get(str(job_id))
    assert state in (None, "running"), f"running-jobs shows job {job_id} as {state!r}"
    page.goto(f"#/jobs/{job_id}", "job")
    points = 'document.querySelector(\'svg.chart[data-metric="step"] g[data-series]\')?.dataset.points'
    b.wait_for(f"{points} === '{parked}'", timeout=15, what=f"{parked} points in chart 'step' while the job is parked")
    b.evaluate("window.__sameDocument = true")
    os.makedirs(os.path.dirname(release), exist_ok=True)
    open(release, "w").close()
    done = s.wait_job(job_id, timeout=60)
    assert done["state"] == "succeeded", f"sleep job {job_id} {done['state']}: {done.get('error')}"
    n = len(s.get(f"/v1/jobs/{job_id}/metrics")["series"]["step"]["values"])
    b.wait_for(f"{points} === '{n}'", timeout=20, what=f"{n} points in chart 'step' after the release")
    b.wait_for("document.body.innerText.includes('succeeded')", timeout=20, what="'succeeded' on the job page")
    assert b.evaluate("window.__sameDocument === true"), "the page reloaded to show the new points"
    assert n > parked, f"the job drew no points after the release ({n})"
    return f"sleep job {job_id}: in running-jobs, {parked} points while parked, then {n} and 'succeeded', live (no reload)"


def check_reconnect(page: Page) -> str:
    """The server stops: conn-status says reconnecting…; it starts again: connected, and the page
    the user went to meanwhile loads."""
    b, s = page.b, page.server
    page.goto("#/overview", "overview")
    status = 'document.querySelector("[data-testid=conn-status]")?.textContent.trim()'
    assert b.evaluate(status) == "connected", f"conn-status reads {b.evaluate(status)!r} before the restart"
    s.stop(close_log=False)
    b.evaluate("delete document.documentElement.dataset.ready; location.hash = '#/jobs'; true")
    b.wait_for(f"{status} === 'reconnecting…'", timeout=30, what="conn-status 'reconnecting…' while the server is down")
    page.shot("reconnecting")
    s.start()
    b.wait_for(f"{status} === 'connected'", timeout=40, what="conn-status 'connected' after the restart")
    b.wait_ready("jobs", timeout=30)
    rows = page.table("jobs")
    assert rows, "the jobs table is empty after the reconnect"
    return f"reconnecting… while down, connected after the restart, #/jobs loaded ({len(rows)} rows)"


def check_probes(page: Page) -> str:
    page.goto("#/probes", "probes")
    api = page.server.get("/v1/probes")["probes"]
    assert api, "/v1/probes is empty"
    expected = {}
    for p in api:
        key = str(p["id"]) if "id" in p else f"{p['space']}|{p['target']}|{p['metric']}"
        expected[key] = {k: p[k] for k in ("space", "target", "metric", "mean", "std")}
    return expect_rows(page, "probes", expected, ["space", "target", "metric", "mean", "std"])


def check_leaderboard(page: Page) -> str:
    page.goto("#/students", "students")
    jobs = page.server.get("/v1/jobs?type=train&state=succeeded&limit=1000")["jobs"]
    assert jobs, "no succeeded train job"
    expected = {}
    for j in jobs:
        test = page.server.get(f"/v1/jobs/{j['id']}")["result"]["test"]
        expected[str(j["id"])] = {k: test[k] for k in ("rank1", "rank10", "mrr")}
    return expect_rows(page, "leaderboard", expected, ["rank1", "rank10", "mrr"])


def find_function(server: Server) -> dict:
    hits = [f for f in server.get(f"/v1/functions?q={FUNCTION_NAME}&limit=100")["functions"]
            if f["qualified_name"] == FUNCTION_NAME]
    assert hits, f"/v1/functions has no {FUNCTION_NAME}"
    return hits[0]


def check_explorer(page: Page, fn: dict) -> str:
    page.goto("#/explorer", "explorer")
    b = page.b
    b.evaluate("(() => { const q = document.querySelector('[data-testid=explorer-query]'); q.focus(); q.select && q.select(); return true; })()")
    b.insert_text(FUNCTION_NAME)
    b.press("Enter")
    b.wait_for(f"(() => {{ const t = document.querySelector('[data-testid=functions]');"
               f" return !!t && !!t.querySelector('tbody tr[data-id=\"{fn['id']}\"]'); }})()",
               timeout=15, what=f"row {fn['id']} in table functions")
    b.wait_for('document.documentElement.dataset.ready === "1"', timeout=15)
    rows = page.table("functions")
    # The rows are the search's (not an unfiltered first page that happens to hold the function).
    matching = {str(f["id"]) for f in page.server.get(f"/v1/functions?q={FUNCTION_NAME}&limit=1000")["functions"]}
    extra = [r["id"] for r in rows if r["id"] not in matching]
    assert not extra, f"rows {extra[:10]} do not match '{FUNCTION_NAME}' (GET /v1/functions?q={FUNCTION_NAME})"
    return f"'{FUNCTION_NAME}' → {len(rows)} rows, all matching, function {fn['id']} ({fn['path']}) among them"


def check_neighbours(page: Page, fn: dict, space: str | None) -> str:
    suffix = f"?space={space}" if space else ""
    page.goto(f"#/functions/{fn['id']}{suffix}", "function")
    b = page.b
    code = b.evaluate("(() => { const c = document.querySelector('[data-testid=function-code]');"
                      " const s = c && c.querySelector('[data-testid=function-signature]');"
                      " return c ? {code: c.textContent, sig: s ? s.textContent : null} : null; })()")
    assert code, "no [data-testid=function-code]"
    assert code["sig"] is not None, "no [data-testid=function-signature] inside the code"
    assert f"def {FUNCTION_NAME}" in code["sig"], f"signature element reads {code['sig'][:80]!r}"
    chosen = b.evaluate("(document.querySelector('[data-testid=neighbour-space]') || {}).value")
    assert chosen, "no [data-testid=neighbour-space] value"
    if space:
        assert chosen == space, f"neighbour-space is {chosen!r}, ?space= asked {space!r}"
    else:
        holding = [sp["name"] for sp in page.server.get("/v1/spaces")["spaces"]
                   if page.server.request("POST", f"/v1/spaces/{sp['name']}/search",
                                          {"function_ids": [fn["id"]], "k": 1, "fields": "ids"})[0] == 200]
        assert chosen == holding[0], f"default neighbour space {chosen!r}, first space holding it {holding[0]!r}"

    def compare():
        status, r = page.server.request("POST", f"/v1/spaces/{chosen}/search", {"function_ids": [fn["id"]], "k": 10})
        assert status == 200, f"search: {status} {r}"
        hits = r["results"][0]["hits"]
        expected = {str(h["id"]): {"score": h["score"]} for h in hits}
        return expect_rows(page, "neighbours", expected, ["score"], ordered=[str(h["id"]) for h in hits])
    return f"space {chosen}: " + retry(compare)


FILL_JS = """(type, values) => {
  const f = document.querySelector(`form[data-job-type="${type}"]`);
  if (!f) throw new Error(`no form[data-job-type=${type}]`);
  for (const [name, value] of Object.entries(values)) {
    const el = f.querySelector(`[name="${name}"]`);
    if (!el) throw new Error(`form ${type} has no input name=${name}`);
    if (el.tagName === 'SELECT' && ![...el.options].some(o => o.value === value)) {
      throw new Error(`form ${type}: select ${name} has no option ${value} (options: ${[...el.options].map(o => o.value)})`);
    }
    el.focus();
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  }
  return true;
}"""

SUBMIT_JS = """(type) => {
  const f = document.querySelector(`form[data-job-type="${type}"]`);
  if (!f.noValidate && !f.checkValidity()) {
    const bad = [...f.elements].filter(e => e.validity && !e.validity.valid).map(e => `${e.name}: ${e.validationMessage}`);
    return {blocked: bad};
  }
  const btn = f.querySelector('button[type=submit], input[type=submit], button:not([type])');
  if (btn) btn.click(); else f.requestSubmit();
  return {blocked: null};
}"""


def check_run_form_job(page: Page) -> str:
    page.goto("#/run", "run")
    b, s = page.b, page.server
    before = {j["id"] for j in s.get("/v1/jobs?limit=1000")["jobs"]}
    b.evaluate(f"({FILL_JS})('neighbours', {json.dumps({'space': f'{TEACHER}.body_mean', 'k': '5'})})")
    page.shot("run")
    r = b.evaluate(f"({SUBMIT_JS})('neighbours')")
    assert not r["blocked"], f"the browser refused the form: {r['blocked']}"
    new_hash = b.wait_for("(/^#\\/jobs\\/(\\d+)$/.exec(location.hash) || [])[1]", timeout=15, what="#/jobs/<new id>")
    job_id = int(new_hash)
    assert job_id not in before, f"#/jobs/{job_id} is not a new job"
    job = s.get(f"/v1/jobs/{job_id}")
    assert job["type"] == "neighbours", f"job {job_id} is a {job['type']} job"
    assert job["params"].get("space") == f"{TEACHER}.body_mean" and job["params"].get("k") == 5, f"params {job['params']}"
    b.wait_ready("job")
    done = s.wait_job(job_id, timeout=120)
    assert done["state"] == "succeeded", f"job {job_id} {done['state']}: {done.get('error')}"
    # The page follows the job live: it must come to say so without a reload.
    b.wait_for("document.body.innerText.includes('succeeded')", timeout=20, what="'succeeded' on the job page")
    page.shot("run-job")
    return f"form → job {job_id} (neighbours, params {job['params']}) at #/jobs/{job_id}, succeeded"


def check_run_form_error(page: Page) -> str:
    page.goto("#/run", "run")
    b = page.b
    mark = len(b.events)
    b.evaluate(f"({FILL_JS})('train', {json.dumps({'input_space': f'{TEACHER}.sig_mean', 'target_space': f'{TEACHER}.body_mean', 'epochs': '-1'})})")
    r = b.evaluate(f"({SUBMIT_JS})('train')")
    assert not r["blocked"], f"the browser's own validation blocked the submit, so the API's error was never shown: {r['blocked']}"
    resp = b.wait_event("Network.responseReceived",
                        lambda p: p["response"]["url"].endswith("/v1/jobs") and p["response"]["status"] >= 400,
                        timeout=15, since=mark)
    b.wait_event("Network.loadingFinished", lambda p: p["requestId"] == resp["requestId"], timeout=15, since=mark)
    body = json.loads(b.response_body(resp["requestId"]))
    message = body["error"]["message"]
    shown = b.wait_for("(() => { const e = document.querySelector('form[data-job-type=train] [data-testid=form-error]');"
                       " return e && e.textContent.trim(); })()", timeout=10, what="form-error text")
    assert message in shown, f"form-error reads {shown!r}, the API said {message!r}"
    detail = f"{resp['response']['status']} {body['error']['code']}: {message!r} shown"
    named = re.findall(r"'([a-z_]+)'", message)
    if "epochs" in named:
        field = b.evaluate("(() => { const e = document.querySelector('form[data-job-type=train] .field-error[data-field=epochs]');"
                           " return e ? e.textContent.trim() : null; })()")
        assert field is not None, "the message names 'epochs' but there is no .field-error[data-field=epochs]"
        assert message in field, f".field-error[data-field=epochs] reads {field!r}"
        detail += ", also next to epochs"
    b.evaluate("document.querySelector('form[data-job-type=train] [data-testid=form-error]').scrollIntoView({block: 'center'}); true")
    page.shot("run-error")
    return detail


# ---------------------------------------------------------------------------------------- main
class SkipPages(Exception):
    """The page does not implement the contract at all: the page checks are not run."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/swejepa"))
    ap.add_argument("--model-dir", default=os.path.join(ROOT, ".cache/models", MODEL))
    ap.add_argument("--out", default=os.path.join(ROOT, ".build/test-output/dashboard"))
    ap.add_argument("--update-docs", action="store_true", help="also copy the screenshots to docs/img/dashboard-<page>.png")
    ap.add_argument("--data", help="use (and keep) this data directory; seeding is skipped when it already holds "
                                   "the seeded jobs (for working on the checks; the corpus is copied to DATA/corpus once)")
    ap.add_argument("--auth", default="reads", choices=["reads", "writes"],
                    help="what the server's token guards (reads: the token dialog is checked)")
    args = ap.parse_args()

    t0 = time.monotonic()
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C: the finally below stops the server and the browser.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for path, what in ((args.binary, "the release binary (make release)"), (os.path.join(args.model_dir, "model.safetensors"), "the default teacher (make model)")):
        if not os.path.exists(path):
            print(f"FAIL  setup — {path} missing: {what}")
            return 1
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="swejepa-dashboard-")
    atexit.register(shutil.rmtree, tmp, True)
    checks = Checks()
    server = browser = None
    try:
        data = os.path.abspath(args.data) if args.data else os.path.join(tmp, "data")
        corpus = os.path.join(data, "corpus") if args.data else os.path.join(tmp, "corpus")
        if not os.path.isdir(corpus):
            make_corpus(corpus)
        os.makedirs(os.path.join(data, "models"), exist_ok=True)
        if not os.path.exists(os.path.join(data, "models", MODEL)):
            os.symlink(os.path.abspath(args.model_dir), os.path.join(data, "models", MODEL))
        token = secrets.token_urlsafe(24)
        server = Server(args.binary, data, corpus, token, args.auth, os.path.join(args.out, "server.log"))
        log(f"server {server.base} (--auth {args.auth}), data {data}")
        ids = seeded_jobs(server)
        if ids is None:
            ids = seed(server, corpus)
            log(f"seeded in {time.monotonic() - t0:.1f} s")
        else:
            log(f"reusing the seeded jobs {ids}")

        browser = Browser(1280, 800)
        page = Page(browser, server, args.out)
        network_4xx = lambda e: e["kind"] == "log.network" and re.search(r"status of 4\d\d", e["text"] or "")

        def console_clean(name, allow=lambda e: False):
            errs = page.new_errors(allow)
            checks.record(f"console: no errors on {name}", not errs,
                          "; ".join(f"{e['kind']}: {e['text'][:200]} {e['url']}" for e in errs[:5]))

        if args.auth == "reads":
            checks.run("token dialog: asks on 401, stores the token, page loads", lambda: check_token_dialog(page, token))
            console_clean("token dialog (401s allowed)", lambda e: network_4xx(e) and "401" in e["text"])
        else:
            browser.navigate(f"{server.base}/#/overview")
            browser.evaluate(f'sessionStorage.setItem("swejepa.token", {json.dumps(token)}); true')
            browser.navigate(f"{server.base}/#/overview")
        if browser.evaluate('sessionStorage.getItem("swejepa.token")') != token:   # the rest needs it either way
            browser.evaluate(f'sessionStorage.setItem("swejepa.token", {json.dumps(token)}); location.reload(); true')
            browser.pump_events(1)

        # A page that never sets the readiness flags is not the contract's page (e.g. before the dashboard
        # branch is merged): one failing line instead of a timeout per check.
        if page.b.evaluate("location.origin + location.pathname") != server.base + "/":
            browser.navigate(f"{server.base}/#/overview")
        try:
            browser.wait_for("document.documentElement.dataset.route !== undefined", timeout=20,
                             what="document.documentElement.dataset.route")
        except TimeoutError as e:
            page.shot("overview")
            checks.record("page follows the DOM contract (dataset.route / dataset.ready)", False,
                          f"{e}; page checks skipped")
            raise SkipPages from None

        for name, fn in check_overview(page):
            checks.run(name, fn)
        page.shot("overview")
        console_clean("overview")

        checks.run("jobs: list holds the seeding jobs", lambda: check_jobs_list(page, ids))
        page.shot("jobs")
        console_clean("jobs")

        checks.run(f"job page: charts of train job {ids['train']} = its metric series", lambda: check_job_charts(page, ids["train"]))
        page.shot("job")
        console_clean("job")

        checks.run("job page: a running job's chart grows live", lambda: check_job_live(page, data))
        console_clean("job (live)")

        checks.run("probes: table = /v1/probes", lambda: check_probes(page))
        page.shot("probes")
        console_clean("probes")

        checks.run("students: leaderboard = succeeded train jobs' result.test", lambda: check_leaderboard(page))
        page.shot("students")
        console_clean("students")

        fn = None
        try:
            fn = find_function(server)
        except AssertionError as e:
            checks.record("explorer: the function exists in the API", False, str(e))
        if fn:
            checks.run(f"explorer: finds {FUNCTION_NAME} by name", lambda: check_explorer(page, fn))
            page.shot("explorer")
            console_clean("explorer")
            checks.run("function page: neighbours (default space) = POST /v1/spaces/{space}/search", lambda: check_neighbours(page, fn, None))
            page.shot("function")
            checks.run(f"function page: neighbours (?space={STUDENT}) = POST /v1/spaces/{STUDENT}/search", lambda: check_neighbours(page, fn, STUDENT))
            console_clean("function")

        checks.run("run: a job submitted from the form appears and succeeds", lambda: check_run_form_job(page))
        console_clean("run (job submitted)")
        checks.run("run: a bad parameter (train epochs -1) shows the API's error", lambda: check_run_form_error(page))
        console_clean("run (bad parameter; its 4xx allowed)", lambda e: network_4xx(e) and "/v1/jobs" in (e["url"] or ""))

        checks.run("connection: reconnecting… while the server restarts, then connected", lambda: check_reconnect(page))
        console_clean("reconnect (refused connections allowed)",
                      lambda e: e["kind"] == "log.network" and "ERR_CONNECTION_REFUSED" in (e["text"] or ""))
    except SkipPages:
        pass
    except Exception as e:  # noqa: BLE001 — seeding or start-up broke: one failing line, then clean up
        traceback.print_exc()
        checks.record("setup", False, f"{type(e).__name__}: {e}")
    finally:
        if browser:
            browser.close()
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    if args.update_docs and checks.failed:
        print("screenshots not copied to docs/img/: some checks failed")
    elif args.update_docs:
        os.makedirs(os.path.join(ROOT, "docs/img"), exist_ok=True)
        for f in sorted(os.listdir(args.out)):
            if f.startswith("dashboard-") and f.endswith(".png"):
                shutil.copy(os.path.join(args.out, f), os.path.join(ROOT, "docs/img", f))
        print("screenshots copied to docs/img/")
    n_fail = len(checks.failed)
    print(f"\n{len(checks.results) - n_fail} passed, {n_fail} failed in {time.monotonic() - t0:.0f} s; screenshots in {args.out}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
