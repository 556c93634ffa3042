"""Text-search latency against a running server (see text_search.sh): for sampled stored functions,
one query per request, k = 10, two ways interleaved (so machine load hits both alike): the text search
(POST .../search with the function's own text in `texts`) and the vector search with the function's
stored vector (what the text embeds to). Embedding time = text search - vector search (medians).
Prints a markdown table of p50 / p99 and how often the function itself comes first."""
import json, random, sys, time, urllib.request

base, prefix = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 200


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


refused = {}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


fns = call("GET", "/v1/functions?limit=1000")
items = fns.get("functions", fns.get("items", []))
random.seed(17)
sample = random.sample(items, min(N, len(items)))
rows = []
for kind, field in [("sig_mean", "signature"), ("body_mean", None)]:
    space = f"{prefix}.{kind}"
    times = {"search": [], "text": []}
    first = 0
    for f in sample:
        full = call("GET", f"/v1/functions/{f['id']}")
        text = full["signature"] if field else full["signature"] + "\n" + full["body"]
        vec = call("GET", f"/v1/spaces/{space}/vectors?ids={f['id']}")["vectors"]
        t0 = time.perf_counter()
        call("POST", f"/v1/spaces/{space}/search", {"vectors": vec, "k": 10})
        t1 = time.perf_counter()
        try:
            r = call("POST", f"/v1/spaces/{space}/search", {"texts": [text], "k": 10})
        except urllib.error.HTTPError as e:  # e.g. 422 empty_text: a body that is only a docstring
            code = json.loads(e.read() or b"{}").get("error", {}).get("code", str(e.code))
            refused[(space, code)] = refused.get((space, code), 0) + 1
            continue
        t2 = time.perf_counter()
        times["search"].append(t1 - t0); times["text"].append(t2 - t1)
        hits = r["results"][0]["hits"]
        first += bool(hits) and hits[0]["id"] == f["id"]
    rows.append((space, times, first, len(sample)))

print("| space | queries | text search p50 / p99 (ms) | vector search p50 / p99 (ms) | embedding, p50 difference (ms) | own function first |")
print("|---|---|---|---|---|---|")
for space, t, first, n in rows:
    f = lambda xs: f"{1000 * pct(xs, 50):.1f} / {1000 * pct(xs, 99):.1f}"
    emb = 1000 * (pct(t["text"], 50) - pct(t["search"], 50))
    print(f"| {space} | {n} | {f(t['text'])} | {f(t['search'])} | {emb:.1f} | {first}/{n} |")
for (space, code), n in sorted(refused.items()):
    print(f"\n{n} text search(es) on {space} answered 4xx `{code}` (not timed).")
