#!/usr/bin/env python3
"""The sig_predictor student of Sources/Training written in PyTorch, to time its training step side by
side with ours (`Bench training --torch PYTHON`, scripts/bench/training.sh) and to check that it is the
same model.

Same architecture and parameter names as our checkpoints: `input_proj` (Linear D → d_model), pre-norm
blocks `blocks.N` (norm1 → attn = nn.MultiheadAttention with PyTorch's `in_proj` q | k | v → dropout →
residual; norm2 → linear1 → exact GELU → dropout → linear2 → dropout → residual), `final_norm`, the
mean over each function's real tokens, `output_proj` (d_model → D) and `log_temperature`. Loss: InfoNCE
on L2-normalised predictions against unit targets, logits / exp(log_temperature), cross-entropy over
each row (optionally also over the columns of the batch block). Step: zero the gradients, forward,
backward, `clip_grad_norm_(1.0)`, AdamW (weight decay 0.01 on the matrices only, lr 1e-4) — what one
`Bench training` step does. Attention probabilities get no dropout (ours has none there).

Modes:
  --check   load the sig_predictor cases of Tests/TrainingTests/Fixtures/training_reference.json (the
            numpy/autograd reference our Swift tests are checked against) into this model in float64 and
            compare loss, gradients and the parameters after one clipped AdamW step; exits 1 on mismatch.
  --serve   time N training steps for every line "N" read on stdin, print one JSON line per request
            (`Bench training` alternates its own steps with these, in one run).
  default   warm up, time --steps steps, print one JSON object (best and median examples/s).

Random data of the bench's shapes: B functions × T tokens of D-dim inputs (every function T tokens, as in
`Bench training`, so no padding mask), B unit targets.
Needs: torch (CPU build), numpy.  Usage:
  python3 scripts/reference/training_torch.py --threads 2 --steps 10
  python3 scripts/reference/training_torch.py --check
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures",
                       "training_reference.json")


class Block(nn.Module):
    """One pre-norm transformer block with the names of our layout (`blocks.N.norm1`, `.attn`, …)."""

    def __init__(self, d, heads, ffn, dropout, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.p = dropout

    def forward(self, x, key_padding_mask):
        h = self.norm1(x)
        a = self.attn(h, h, h, key_padding_mask=key_padding_mask, need_weights=False)[0]
        x = x + F.dropout(a, self.p, self.training)
        f = F.dropout(F.gelu(self.linear1(self.norm2(x))), self.p, self.training)
        return x + F.dropout(self.linear2(f), self.p, self.training)


class SigPredictor(nn.Module):
    """input_proj → blocks → final_norm → mean over real tokens → output_proj, plus log_temperature."""

    def __init__(self, input_dim=384, output_dim=384, d_model=512, heads=8, ffn_dim=2048, layers=2,
                 dropout=0.1, final_norm=True, temperature=0.07, eps=1e-5):
        super().__init__()
        self.input_proj = nn.Linear(input_dim, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads, ffn_dim, dropout, eps) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d_model, eps=eps) if final_norm else None
        self.output_proj = nn.Linear(d_model, output_dim)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))

    def forward(self, x, mask=None):
        """x [B, T, D]; mask [B, T] True = real token (None: all real)."""
        kpm = None if mask is None else ~mask
        h = self.input_proj(x)
        for b in self.blocks:
            h = b(h, kpm)
        if self.final_norm is not None:
            h = self.final_norm(h)
        if mask is None:
            pooled = h.mean(dim=1)
        else:
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(dim=1) / m.sum(dim=1)
        return self.output_proj(pooled)


def info_nce(pred, targets, log_t, exclude=None, symmetric=False):
    """Row i's positive is target i; the other targets are negatives unless exclude[i, j]."""
    b = pred.shape[0]
    logits = F.normalize(pred, dim=1, eps=1e-12) @ targets.T * torch.exp(-log_t)
    if exclude is not None:
        keep = ~exclude | torch.eye(b, targets.shape[0], dtype=torch.bool)
        logits = logits.masked_fill(~keep, float("-inf"))
    labels = torch.arange(b)
    row = F.cross_entropy(logits, labels)
    if not symmetric:
        return row
    return 0.5 * (row + F.cross_entropy(logits[:, :b].T, labels))


def optimizer(model, lr, weight_decay):
    """AdamW with decay on the matrices only (never biases, norms or the temperature), as ours."""
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.999), eps=1e-8)


def grad_of(p):
    """A parameter's gradient, flat (zeros when the loss does not reach it: the temperature under SmoothL1)."""
    return torch.zeros(p.numel()) if p.grad is None else p.grad.reshape(-1)


def check():
    """Float64 comparison against the numpy/autograd fixture (the Swift tests use the same cases)."""
    torch.set_default_dtype(torch.float64)
    cases = json.load(open(FIXTURE))["cases"]
    worst = 0.0
    for c in cases:
        cfg = c["config"]
        if cfg["kind"] != "sig_predictor":
            continue
        model = SigPredictor(cfg["input_dim"], cfg["output_dim"], cfg["d_model"], cfg["heads"], cfg["ffn_dim"],
                             cfg["layers"], dropout=0.0, final_norm=cfg["final_norm"])
        params = dict(model.named_parameters())
        assert set(params) == set(c["params"]), sorted(set(params) ^ set(c["params"]))
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(torch.tensor(c["params"][n]).reshape(p.shape))
        offsets = c["offsets"]
        lengths = [offsets[i + 1] - offsets[i] for i in range(len(offsets) - 1)]
        b, t, d = len(lengths), max(lengths), cfg["input_dim"]
        tok = torch.tensor(c["tokens"]).reshape(-1, d)
        x = torch.zeros(b, t, d)
        mask = torch.zeros(b, t, dtype=torch.bool)
        for i, l in enumerate(lengths):
            x[i, :l] = tok[offsets[i]:offsets[i + 1]]
            mask[i, :l] = True
        targets = torch.tensor(c["targets"]).reshape(-1, cfg["output_dim"])
        exclude = None if c["exclude"] is None else torch.tensor(c["exclude"], dtype=torch.bool).reshape(b, -1)
        pred = model(x, mask)
        if cfg["loss"] == "info_nce":
            loss = info_nce(pred, targets, model.log_temperature, exclude, cfg["symmetric"])
        else:
            loss = F.smooth_l1_loss(pred, targets[:b], beta=1.0)
        loss.backward()
        opt = c["optimizer"]
        norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), opt["grad_clip"]))
        adam = optimizer(model, opt["lr"], opt["weight_decay"])
        errs = {"loss": abs(loss.item() - c["loss"]) / max(1.0, abs(c["loss"])),
                "grad_norm": abs(norm - c["grad_norm"]) / max(1.0, c["grad_norm"])}
        coef = min(1.0, opt["grad_clip"] / (c["grad_norm"] + 1e-6))
        errs["grads"] = max(float((grad_of(p) / coef - torch.tensor(c["grads"][n])).abs().max())
                            for n, p in params.items())
        adam.step()
        errs["params_after_step1"] = max(float((p.detach().reshape(-1) - torch.tensor(c["params_after_step1"][n])).abs().max())
                                         for n, p in params.items())
        worst = max(worst, *errs.values())
        print("%s: loss %.9f (reference %.9f); max differences %s" % (
            c["name"], loss.item(), c["loss"], ", ".join("%s %.1e" % kv for kv in errs.items())))
    ok = worst < 1e-6
    print("check %s (worst difference %.1e, tolerance 1e-6)" % ("passed" if ok else "FAILED", worst))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--input-dim", type=int, default=384)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ffn", type=int, default=2048)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if check() else 1)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SigPredictor(a.input_dim, a.input_dim, a.d_model, a.heads, a.ffn, a.layers)
    model.train()
    nparams = sum(p.numel() for p in model.parameters())
    opt = optimizer(model, 1e-4, 0.01)
    x = torch.randn(a.batch, a.tokens, a.input_dim)
    targets = F.normalize(torch.randn(a.batch, a.input_dim), dim=1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = info_nce(model(x), targets, model.log_temperature)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def timed(n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        return times

    for _ in range(a.warmup):
        step()
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mkl": torch.backends.mkl.is_available(),
            "parameters": nparams, "batch": a.batch, "tokens": a.tokens}
    if a.serve:
        print(json.dumps(dict(info, ready=True)), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            print(json.dumps({"step_seconds": timed(int(line))}), flush=True)
        return
    times = timed(a.steps)
    best, med = min(times), statistics.median(times)
    print(json.dumps(dict(info, steps=a.steps, step_seconds_best=best, step_seconds_median=med,
                          examples_per_s_best=a.batch / best, examples_per_s_median=a.batch / med)))


if __name__ == "__main__":
    main()
