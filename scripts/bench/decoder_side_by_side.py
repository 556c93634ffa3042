#!/usr/bin/env python3
"""Driver of the decoder-teacher section (`scripts/bench/decoder.sh`): our `Bench decoder` next to
PyTorch `transformers` (`decoder_torch.py`) on the same GGUF files, the same token ids and the same
number of threads, in alternating rounds of fresh processes (round 1: ours then PyTorch, round 2:
PyTorch then ours, …), so both see the same machine load. Standard library only.

Round 1 is each side's first load (ours: GGUF dequantised + weight cache written, then timed again
without and with the cache; PyTorch: GGUF dequantised + a Float32 safetensors copy written); later
rounds load from those caches. Per batch the table gives the median over rounds of each side's
tokens/s (the best of `--repeats` forwards after a warm-up in each process), the median of the
per-round ratios, and each side's GFLOP/s as a share of the sgemm GFLOP/s our process measured on the
same shapes in the same round. Prints Markdown.

Usage: python3 decoder_side_by_side.py --bench .build/release/Bench --work DIR [--torch PYTHON]
           [--rounds 3] [--repeats 2] [--threads 2] [--layers L] NAME=PATH.gguf …
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys


def load_average():
    with open("/proc/loadavg") as f:
        return " / ".join(f.read().split()[:3])


def run(cmd, out_json):
    """Runs one side's process; returns its JSON report, or None (with stderr's tail) on failure."""
    if os.path.exists(out_json):
        os.remove(out_json)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0 or not os.path.exists(out_json):
        print(f"\n_`{' '.join(cmd[:3])} …` failed (exit {proc.returncode}): "
              f"{proc.stderr.strip().splitlines()[-1:] or proc.stdout[-300:]}_\n")
        return None
    with open(out_json) as f:
        return json.load(f)


def fmt(x, digits=0, unit=""):
    """`x` with thousands separators and `unit`, or a dash when missing."""
    return "–" if x is None else f"{x:,.{digits}f}{unit}"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def bench_model(name, gguf, a, torch_python, here):
    work = os.path.join(a.work, name)
    ids, ours_cache, torch_cache = (os.path.join(work, s) for s in ("ids", "ours-cache", "torch-cache"))
    for folder in (ids, ours_cache, torch_cache):
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(ids, exist_ok=True)
    layers = ["--layers", str(a.layers)] if a.layers else []
    ours, theirs, loads = [], [], []
    for r in range(a.rounds):
        ours_cmd = [a.bench, "decoder", "--model", gguf, "--threads", str(a.threads), "--repeats", str(a.repeats),
                    "--ids", ids, "--cache", ours_cache, "--json", os.path.join(work, "ours.json")] + layers
        if r > 0:
            ours_cmd.append("--keep-cache")
        torch_cmd = [torch_python, os.path.join(here, "decoder_torch.py"), "--gguf", gguf, "--ids", ids,
                     "--cache", torch_cache, "--threads", str(a.threads), "--repeats", str(a.repeats),
                     "--json", os.path.join(work, "torch.json")] + (["--layers", str(a.layers)] if a.layers else [])
        order = ["ours", "torch"] if r % 2 == 0 or not torch_python else ["torch", "ours"]
        before = load_average()
        got = {}
        for side in order:
            if side == "ours":
                got["ours"] = run(ours_cmd, os.path.join(work, "ours.json"))
            elif torch_python:
                got["torch"] = run(torch_cmd, os.path.join(work, "torch.json"))
        ours.append(got.get("ours"))
        theirs.append(got.get("torch"))
        loads.append((before, load_average()))
        print(f"<!-- {name} round {r + 1} ({' then '.join(order)}): load average {before} → {loads[-1][1]} -->",
              file=sys.stderr)

    first = ours[0] or {}
    print(f"### {name}: {first.get('model', gguf)} ({first.get('layer_count', '?')} blocks, "
          f"{first.get('weight_mib', '?')} MiB Float32)\n")
    print(f"{a.rounds} rounds; load average (1 / 5 / 15 min) at each round's start → end: "
          + "; ".join(f"{b} → {e}" for b, e in loads) + ".\n")
    print("| up to layer | batch | ours tokens/s | transformers tokens/s | ours / transformers | "
          "ours share of sgemm | transformers share of sgemm | per round: ours / transformers tokens/s |")
    print("|---|---|---|---|---|---|---|---|")
    rows = len((first.get("rows") or []))
    for i in range(rows):
        o = [(x["rows"][i] if x else None) for x in ours]
        t = [(x["rows"][i] if x else None) for x in theirs]
        ratios = [oo["tokens_per_s"] / tt["tokens_per_s"] for oo, tt in zip(o, t) if oo and tt]
        share_o = [oo["gflops"] / oo["sgemm_gflops"] for oo in o if oo]
        share_t = [tt["tokens_per_s"] * oo["flops"] / (oo["batch"] * oo["tokens"]) / 1e9 / oo["sgemm_gflops"]
                   for oo, tt in zip(o, t) if oo and tt]
        per_round = ", ".join(f"{fmt(oo and oo['tokens_per_s'])} / {fmt(tt and tt['tokens_per_s'])}" for oo, tt in zip(o, t))
        ref = o[0] or {}
        pct = (lambda x: "–" if x is None else f"{100 * x:.0f}%")
        print(f"| {ref.get('layers')} of {first.get('layer_count')} | {ref.get('batch')} × {ref.get('tokens')} | "
              f"{fmt(median([oo and oo['tokens_per_s'] for oo in o]))} | {fmt(median([tt and tt['tokens_per_s'] for tt in t]))} | "
              f"{fmt(median(ratios), 2, '×')} | {pct(median(share_o))} | {pct(median(share_t))} | {per_round} |")

    def load_of(x, key):
        return x and x["load"].get(key)
    tf = theirs[0] or {}
    print("\n| load and memory | ours | transformers |")
    print("|---|---|---|")
    print(f"| first load (round 1): dequantise the GGUF + write the cache | {fmt(load_of(ours[0], 'first_seconds'), 2)} s "
          f"| {fmt(load_of(theirs[0], 'seconds'), 2)} s |")
    print(f"| dequantise only | {fmt(load_of(ours[0], 'dequantise_seconds'), 2)} s | "
          f"{fmt(load_of(theirs[0], 'dequantise_seconds'), 2)} s |")
    cached_o = [load_of(ours[0], "cached_seconds")] + [load_of(x, "seconds") for x in ours[1:]]
    cached_t = [load_of(x, "seconds") for x in theirs[1:]]
    print(f"| from the cache, median (per round) | {fmt(median(cached_o), 2)} s ({', '.join(fmt(x, 2) for x in cached_o)}) "
          f"| {fmt(median(cached_t), 2)} s ({', '.join(fmt(x, 2) for x in cached_t)}) |")
    print(f"| VmRSS after the load, median | {fmt(median([x and x['rss_after_load_mib'] for x in ours]))} MiB "
          f"| {fmt(median([x and x['rss_after_load_mib'] for x in theirs]))} MiB |")
    print(f"| peak RSS (VmHWM), round 1 (first load) | {fmt(first.get('hwm_mib'))} MiB | {fmt(tf.get('hwm_mib'))} MiB |")
    print(f"| peak RSS (VmHWM), later rounds (cached load + forwards), median | "
          f"{fmt(median([x and x['hwm_mib'] for x in ours[1:]]))} MiB | {fmt(median([x and x['hwm_mib'] for x in theirs[1:]]))} MiB |")
    if tf:
        print(f"\ntransformers {tf.get('transformers')}, torch {tf.get('torch')}, {tf.get('threads')} threads, "
              f"attention `{tf.get('attention')}`; ours: OpenBLAS, {first.get('threads')} threads. Ours' round-1 peak "
              "includes its three loads one after another.\n")
    else:
        print()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--torch", default="")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", type=int, default=0)
    p.add_argument("models", nargs="+", help="NAME=PATH.gguf")
    a = p.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    for spec in a.models:
        name, _, gguf = spec.partition("=")
        if not os.path.exists(gguf):
            print(f"_{name}: {gguf} missing, skipped (see `make model-smollm2`, `make model-qwen-coder`)._\n")
            continue
        bench_model(name, gguf, a, a.torch or None, here)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
