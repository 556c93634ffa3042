#!/usr/bin/env python3
"""PyTorch `transformers` side of the decoder-teacher benchmark (`scripts/bench/decoder.sh`).

Loads the same GGUF file our `Bench decoder` loads, dequantised by transformers (with the `gguf`
package) to Float32, and runs the base model (`model.model`: embeddings, blocks, final RMSNorm; the
output head is never computed, `use_cache=False`) over the very token ids our bench used: the
`ids-8x128.npy` and `ids-2x512.npy` files `Bench decoder --ids DIR` writes. `--layers L` keeps the
first L blocks only (default all), so the FLOPs match ours. `torch.set_num_threads(--threads)`,
`torch.inference_mode()`, a warm-up forward then `--repeats` timed ones per batch (best kept, as ours).

Loading, like ours: with `--cache DIR` empty (or absent), the GGUF is dequantised and the Float32
model written there with `save_pretrained` (safetensors) -- the first load; when DIR already holds it,
the model is loaded from there (every later load). Without `--cache` the GGUF is always dequantised.

Prints one JSON object (also written to `--json PATH`): load seconds and source, per batch seconds and
tokens/s, VmRSS after the load and the process's peak RSS (VmHWM).

Usage: python decoder_torch.py --gguf PATH.gguf --ids DIR [--cache DIR] [--layers L] [--threads 2]
                               [--repeats 2] [--json PATH]
Needs torch, transformers, gguf, accelerate, numpy (not installed by the Makefile; see decoder.sh).
"""
import argparse
import json
import os
import sys
import time


def memory_mib():
    """(VmRSS, VmHWM) of this process in MiB from /proc/self/status."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gguf", required=True)
    p.add_argument("--ids", required=True, help="folder with ids-<b>x<t>.npy from Bench decoder --ids")
    p.add_argument("--cache", help="folder for the Float32 safetensors copy (first load writes it)")
    p.add_argument("--layers", type=int, default=0, help="blocks to run (0 = all)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--json")
    a = p.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(a.threads)

    t0 = time.perf_counter()
    cached = a.cache and os.path.exists(os.path.join(a.cache, "config.json"))
    load = {}
    if cached:
        model = AutoModelForCausalLM.from_pretrained(a.cache, dtype=torch.float32)
        load = {"source": "safetensors cache", "seconds": time.perf_counter() - t0}
    else:
        folder, name = os.path.split(os.path.abspath(a.gguf))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        dequantise = time.perf_counter() - t0
        load = {"source": "gguf", "dequantise_seconds": dequantise, "seconds": dequantise}
        if a.cache:
            # The weights are plain Float32 tensors by now; transformers only refuses to save a model
            # loaded through its GGUF "quantizer", so that marker goes before the save.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            os.makedirs(a.cache, exist_ok=True)
            model.save_pretrained(a.cache)
            load = {"source": "gguf, cache written", "dequantise_seconds": dequantise,
                    "seconds": time.perf_counter() - t0}
    model.eval()
    base = model.model
    total = len(base.layers)
    layers = a.layers or total
    if layers < total:
        base.layers = base.layers[:layers]
        base.config.num_hidden_layers = layers
    rss_after_load, _ = memory_mib()

    rows = []
    with torch.inference_mode():
        for b, t in [(8, 128), (2, 512)]:
            ids = np.load(os.path.join(a.ids, f"ids-{b}x{t}.npy"))
            assert ids.shape == (b, t), ids.shape
            x = torch.from_numpy(ids.astype(np.int64))
            base(input_ids=x, use_cache=False)  # warm-up
            best = float("inf")
            for _ in range(a.repeats):
                s = time.perf_counter()
                out = base(input_ids=x, use_cache=False).last_hidden_state
                best = min(best, time.perf_counter() - s)
            assert out.shape == (b, t, base.config.hidden_size) and out.dtype == torch.float32
            rows.append({"layers": layers, "batch": b, "tokens": t, "seconds": best, "tokens_per_s": b * t / best})
    rss_end, hwm = memory_mib()
    report = {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
              "threads": torch.get_num_threads(), "layer_count": total, "repeats": a.repeats,
              "attention": getattr(base.config, "_attn_implementation", "?"), "load": load, "rows": rows,
              "rss_after_load_mib": rss_after_load, "rss_end_mib": rss_end, "hwm_mib": hwm}
    text = json.dumps(report, sort_keys=True)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
