#!/usr/bin/env python3
"""Independent reference for the Training module: one forward/backward step of the student models
and two AdamW steps, written in numpy with gradients from `autograd` (reverse-mode autodiff of the
numpy code, not hand-derived), on a *padded* batch with a key padding mask (the Swift side packs
variable-length sequences instead; both must agree on every real token).

Writes Tests/TrainingTests/Fixtures/training_reference.json and, for the `token_decoder` student (the
sig_predictor encoder, a cross-attention decoder over learned position queries, InfoNCE on the pooled
prediction plus a per-token cosine loss), Tests/TrainingTests/Fixtures/token_decoder_reference.json.
Needs: numpy, autograd, scipy (for erf):  pip install autograd scipy
Usage: python3 scripts/reference/training_numpy.py
"""
import json
import math
import os

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.scipy.special import erf

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures")
OUT = os.path.join(FIXTURES, "training_reference.json")
OUT_TOKEN = os.path.join(FIXTURES, "token_decoder_reference.json")
LN_EPS = 1e-5


def f32(a):
    """Values exactly representable in float32, kept in float64 for the computation."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def layer_norm(x, w, b):
    mu = anp.mean(x, axis=-1, keepdims=True)
    var = anp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / anp.sqrt(var + LN_EPS) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def linear(x, p, name):
    return anp.dot(x, p[name + ".weight"].T) + p[name + ".bias"]


def masked_mean(x, mask):  # x [B,T,C], mask [B,T] 1 = real token
    m = mask[:, :, None]
    return anp.sum(x * m, axis=1) / anp.sum(m, axis=1)


def attention(x, p, pre, heads, key_mask):
    """PyTorch MultiheadAttention (self-attention) on a padded batch; key_mask [B,T] True = real key."""
    return cross_attention(x, x, p, pre, heads, key_mask)


def cross_attention(x, mem, p, pre, heads, key_mask):
    """PyTorch MultiheadAttention(query=x, key=value=mem) on padded batches; key_mask [B,L] True = real key."""
    d = x.shape[-1]
    dh = d // heads
    w, b = p[pre + ".in_proj_weight"], p[pre + ".in_proj_bias"]
    q = anp.dot(x, w[:d].T) + b[:d]
    k = anp.dot(mem, w[d:2 * d].T) + b[d:2 * d]
    v = anp.dot(mem, w[2 * d:].T) + b[2 * d:]
    outs = []
    for h in range(heads):
        qh, kh, vh = (t[:, :, h * dh:(h + 1) * dh] for t in (q, k, v))
        s = anp.einsum("bik,bjk->bij", qh, kh) / math.sqrt(dh)
        s = anp.where(key_mask[:, None, :], s, -1e30)
        s = s - anp.max(s, axis=-1, keepdims=True)
        e = anp.exp(s)
        a = e / anp.sum(e, axis=-1, keepdims=True)
        outs.append(anp.einsum("bij,bjk->bik", a, vh))
    o = anp.concatenate(outs, axis=-1)
    return anp.dot(o, p[pre + ".out_proj.weight"].T) + p[pre + ".out_proj.bias"]


def sig_predictor(p, cfg, x, mask):
    return linear(masked_mean(encoder(p, cfg, x, mask), mask), p, "output_proj")


def token_decoder(p, cfg, x, mask, tmask):
    """Returns (pooled prediction [B,D], token predictions [B,cap,D]); tmask [B,cap] 1 = real target position.

    The queries are all cap = max_target_tokens positions and the pooled prediction is their plain mean
    (as at prediction time, when the body's length is unknown); tmask only selects the token loss's rows."""
    mem = encoder(p, cfg, x, mask)
    B, Tq = tmask.shape
    h = anp.zeros((B, 1, 1)) + p["decoder.query_embed"][None, :Tq, :]
    for l in range(cfg["decoder_layers"]):
        pre = "decoder.blocks.%d" % l
        h = h + cross_attention(layer_norm(h, p[pre + ".norm1.weight"], p[pre + ".norm1.bias"]), mem, p,
                                pre + ".cross_attn", cfg["heads"], mask > 0)
        f = gelu(linear(layer_norm(h, p[pre + ".norm2.weight"], p[pre + ".norm2.bias"]), p, pre + ".linear1"))
        h = h + linear(f, p, pre + ".linear2")
    h = layer_norm(h, p["decoder.final_norm.weight"], p["decoder.final_norm.bias"])
    return linear(anp.mean(h, axis=1), p, "output_proj"), linear(h, p, "decoder.token_proj")


def token_cosine(tok, target, tmask):
    """Mean over real target positions of 1 − cos(prediction, unit target)."""
    cos = anp.sum(tok * target, axis=-1) / anp.sqrt(anp.sum(tok ** 2, axis=-1))
    return anp.sum(tmask * (1.0 - cos)) / anp.sum(tmask)


def encoder(p, cfg, x, mask):
    h = linear(x, p, "input_proj")
    for l in range(cfg["layers"]):
        pre = "blocks.%d" % l
        h = h + attention(layer_norm(h, p[pre + ".norm1.weight"], p[pre + ".norm1.bias"]), p, pre + ".attn",
                          cfg["heads"], mask > 0)
        f = gelu(linear(layer_norm(h, p[pre + ".norm2.weight"], p[pre + ".norm2.bias"]), p, pre + ".linear1"))
        h = h + linear(f, p, pre + ".linear2")
    if cfg["final_norm"]:
        h = layer_norm(h, p["final_norm.weight"], p["final_norm.bias"])
    return h


def mlp(p, cfg, x, mask):
    return linear(gelu(linear(masked_mean(x, mask), p, "fc1")), p, "fc2")


def logsumexp(z, axis):
    m = anp.max(z, axis=axis, keepdims=True)
    return anp.squeeze(m, axis) + anp.log(anp.sum(anp.exp(z - m), axis=axis))


def info_nce(pred, targets, exclude, log_t, symmetric):
    B = pred.shape[0]
    pn = pred / anp.sqrt(anp.sum(pred ** 2, axis=1, keepdims=True))
    logits = anp.dot(pn, targets.T) / anp.exp(log_t)
    keep = (exclude == 0) | np.eye(B, targets.shape[0], dtype=bool)
    z = anp.where(keep, logits, -1e30)
    diag = anp.sum(logits[:, :B] * np.eye(B), axis=1)
    row = anp.mean(logsumexp(z, 1) - diag)
    if not symmetric:
        return row
    col = anp.mean(logsumexp(z[:, :B], 0) - diag)
    return 0.5 * (row + col)


def smooth_l1(pred, target):
    d = pred - target
    a = anp.abs(d)
    return anp.mean(anp.where(a < 1.0, 0.5 * d * d, a - 0.5))


def param_shapes(cfg):
    """(name, shape, decay) in the Swift layout order."""
    out = []
    if cfg["kind"] == "mlp":
        H = cfg["mlp_hidden"]
        out += [("fc1.weight", (H, cfg["input_dim"]), True), ("fc1.bias", (H,), False),
                ("fc2.weight", (cfg["output_dim"], H), True), ("fc2.bias", (cfg["output_dim"],), False)]
    else:
        d, F = cfg["d_model"], cfg["ffn_dim"]
        out += [("input_proj.weight", (d, cfg["input_dim"]), True), ("input_proj.bias", (d,), False)]
        for l in range(cfg["layers"]):
            pre = "blocks.%d" % l
            out += [(pre + ".norm1.weight", (d,), False), (pre + ".norm1.bias", (d,), False),
                    (pre + ".attn.in_proj_weight", (3 * d, d), True), (pre + ".attn.in_proj_bias", (3 * d,), False),
                    (pre + ".attn.out_proj.weight", (d, d), True), (pre + ".attn.out_proj.bias", (d,), False),
                    (pre + ".norm2.weight", (d,), False), (pre + ".norm2.bias", (d,), False),
                    (pre + ".linear1.weight", (F, d), True), (pre + ".linear1.bias", (F,), False),
                    (pre + ".linear2.weight", (d, F), True), (pre + ".linear2.bias", (d,), False)]
        if cfg["final_norm"]:
            out += [("final_norm.weight", (d,), False), ("final_norm.bias", (d,), False)]
        if cfg["kind"] == "token_decoder":
            out.append(("decoder.query_embed", (cfg["max_target_tokens"], d), False))
            for l in range(cfg["decoder_layers"]):
                pre = "decoder.blocks.%d" % l
                out += [(pre + ".norm1.weight", (d,), False), (pre + ".norm1.bias", (d,), False),
                        (pre + ".cross_attn.in_proj_weight", (3 * d, d), True),
                        (pre + ".cross_attn.in_proj_bias", (3 * d,), False),
                        (pre + ".cross_attn.out_proj.weight", (d, d), True), (pre + ".cross_attn.out_proj.bias", (d,), False),
                        (pre + ".norm2.weight", (d,), False), (pre + ".norm2.bias", (d,), False),
                        (pre + ".linear1.weight", (F, d), True), (pre + ".linear1.bias", (F,), False),
                        (pre + ".linear2.weight", (d, F), True), (pre + ".linear2.bias", (d,), False)]
            out += [("decoder.final_norm.weight", (d,), False), ("decoder.final_norm.bias", (d,), False),
                    ("decoder.token_proj.weight", (cfg["output_dim"], d), True),
                    ("decoder.token_proj.bias", (cfg["output_dim"],), False)]
        out += [("output_proj.weight", (cfg["output_dim"], d), True), ("output_proj.bias", (cfg["output_dim"],), False)]
    out.append(("log_temperature", (), False))
    return out


def adamw(params, grads, state, decay, lr, wd, b1=0.9, b2=0.999, eps=1e-8):
    state["t"] += 1
    t = state["t"]
    new = {}
    for k, p in params.items():
        g = grads[k]
        if decay[k]:
            p = p * (1 - lr * wd)
        state["m"][k] = b1 * state["m"][k] + (1 - b1) * g
        state["v"][k] = b2 * state["v"][k] + (1 - b2) * g * g
        mhat = state["m"][k] / (1 - b1 ** t)
        vhat = state["v"][k] / (1 - b2 ** t)
        new[k] = p - lr * mhat / (np.sqrt(vhat) + eps)
    return new


def make_case(name, cfg, seed, lengths, extra, exclude_pairs, opt):
    rng = np.random.default_rng(seed)
    shapes = param_shapes(cfg)
    params = {}
    for n, shp, _ in shapes:
        if n == "log_temperature":
            params[n] = f32(math.log(cfg["temperature"]))
        elif n.endswith("norm1.weight") or n.endswith("norm2.weight") or n == "final_norm.weight":
            params[n] = f32(1.0 + 0.1 * rng.standard_normal(shp))
        else:
            fan_in = shp[-1] if len(shp) == 2 else 8
            params[n] = f32(rng.uniform(-1, 1, shp) / math.sqrt(fan_in))
    decay = {n: d for n, _, d in shapes}
    B, T, D = len(lengths), max(lengths), cfg["input_dim"]
    x = f32(rng.standard_normal((B, T, D)))
    mask = np.zeros((B, T))
    for b, L in enumerate(lengths):
        mask[b, :L] = 1
        x[b, L:] = 0.0
    C = B + extra
    targets = f32(rng.standard_normal((C, cfg["output_dim"])))
    if cfg["loss"] == "info_nce":
        targets = f32(targets / np.linalg.norm(targets, axis=1, keepdims=True))
    exclude = np.zeros((B, C), dtype=np.uint8)
    for i, j in exclude_pairs:
        exclude[i, j] = 1
    model = mlp if cfg["kind"] == "mlp" else sig_predictor

    def loss_fn(p):
        pred = model(p, cfg, x, mask)
        if cfg["loss"] == "smooth_l1":
            return smooth_l1(pred, targets[:B])
        return info_nce(pred, targets, exclude, p["log_temperature"], cfg["symmetric"])

    loss = float(loss_fn(params))
    grads = grad(loss_fn)(params)
    grads = {k: np.asarray(v, dtype=np.float64) for k, v in grads.items()}
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    coef = opt["grad_clip"] / (total + 1e-6)
    clipped = {k: g * coef for k, g in grads.items()} if coef < 1 else grads
    state = {"t": 0, "m": {k: 0.0 * p for k, p in params.items()}, "v": {k: 0.0 * p for k, p in params.items()}}
    step1 = adamw(params, clipped, state, decay, opt["lr"], opt["weight_decay"])
    step2 = adamw(step1, clipped, state, decay, opt["lr"], opt["weight_decay"])  # same gradient, t = 2
    preds = np.asarray(model(params, cfg, x, mask))

    def flat(d):
        return {k: np.asarray(v, dtype=np.float64).reshape(-1).tolist() for k, v in d.items()}

    tokens = np.concatenate([x[b, :L] for b, L in enumerate(lengths)], axis=0)
    return {
        "name": name, "config": cfg, "optimizer": opt,
        "tokens": tokens.reshape(-1).tolist(), "offsets": [0] + np.cumsum(lengths).tolist(),
        "targets": targets.reshape(-1).tolist(), "exclude": exclude.reshape(-1).tolist() if extra or exclude_pairs else None,
        "params": flat(params), "loss": loss, "predictions": preds.reshape(-1).tolist(),
        "grad_norm": total, "grads": flat(grads), "params_after_step1": flat(step1), "params_after_step2": flat(step2),
    }


def init_params(cfg, rng):
    params = {}
    for n, shp, _ in param_shapes(cfg):
        if n == "log_temperature":
            params[n] = f32(math.log(cfg["temperature"]))
        elif n.endswith("norm1.weight") or n.endswith("norm2.weight") or n.endswith("final_norm.weight"):
            params[n] = f32(1.0 + 0.1 * rng.standard_normal(shp))
        else:
            fan_in = shp[-1] if len(shp) == 2 else 8
            params[n] = f32(rng.uniform(-1, 1, shp) / math.sqrt(fan_in))
    return params


def make_token_case(name, cfg, seed, lengths, target_lengths, extra, exclude_pairs):
    """One forward + backward of the token_decoder (no AdamW: the optimizer is checked above)."""
    rng = np.random.default_rng(seed)
    params = init_params(cfg, rng)
    B, T, D = len(lengths), max(lengths), cfg["input_dim"]
    Dout, Tq = cfg["output_dim"], cfg["max_target_tokens"]
    x = f32(rng.standard_normal((B, T, D)))
    mask = np.zeros((B, T))
    for b, L in enumerate(lengths):
        mask[b, :L] = 1
        x[b, L:] = 0.0
    tmask = np.zeros((B, Tq))
    tt = f32(rng.standard_normal((B, Tq, Dout)))
    tt = f32(tt / np.linalg.norm(tt, axis=-1, keepdims=True))
    for b, L in enumerate(target_lengths):
        tmask[b, :L] = 1
        tt[b, L:] = 0.0
    C = B + extra
    targets = f32(rng.standard_normal((C, Dout)))
    targets = f32(targets / np.linalg.norm(targets, axis=1, keepdims=True))
    exclude = np.zeros((B, C), dtype=np.uint8)
    for i, j in exclude_pairs:
        exclude[i, j] = 1

    def losses(p):
        pooled, tok = token_decoder(p, cfg, x, mask, tmask)
        return info_nce(pooled, targets, exclude, p["log_temperature"], False), token_cosine(tok, tt, tmask)

    def loss_fn(p):
        nce, tokl = losses(p)
        return nce + cfg["token_loss_weight"] * tokl

    nce, tokl = (float(v) for v in losses(params))
    grads = {k: np.asarray(v, dtype=np.float64) for k, v in grad(loss_fn)(params).items()}
    pooled, tok = (np.asarray(v) for v in token_decoder(params, cfg, x, mask, tmask))

    def packed(a, ls):
        return np.concatenate([a[b, :L] for b, L in enumerate(ls)], axis=0).reshape(-1).tolist()

    return {
        "name": name, "config": cfg,
        "tokens": packed(x, lengths), "offsets": [0] + np.cumsum(lengths).tolist(),
        "targets": targets.reshape(-1).tolist(), "exclude": exclude.reshape(-1).tolist() if extra or exclude_pairs else None,
        "target_tokens": packed(tt, target_lengths), "target_token_offsets": [0] + np.cumsum(target_lengths).tolist(),
        "params": {k: np.asarray(v, dtype=np.float64).reshape(-1).tolist() for k, v in params.items()},
        "loss": nce + cfg["token_loss_weight"] * tokl, "info_nce_loss": nce, "token_loss": tokl,
        "predictions": pooled.reshape(-1).tolist(), "token_predictions": packed(tok, target_lengths),
        "grads": {k: v.reshape(-1).tolist() for k, v in grads.items()},
    }


def rounded(o):  # 9 significant digits: exact for the float32 inputs, ample for a 1e-4 check
    if isinstance(o, float):
        return float("%.9g" % o)
    if isinstance(o, list):
        return [rounded(v) for v in o]
    if isinstance(o, dict):
        return {k: rounded(v) for k, v in o.items()}
    return o


def main():
    base = {"input_dim": 16, "output_dim": 16, "d_model": 16, "heads": 2, "ffn_dim": 32, "layers": 1,
            "final_norm": True, "temperature": 0.07, "mlp_hidden": 24}
    opt = {"lr": 1e-3, "weight_decay": 0.01, "grad_clip": 0.5}
    cases = [
        make_case("sig_predictor_infonce_hard_negatives",
                  dict(base, kind="sig_predictor", loss="info_nce", symmetric=False),
                  1, [5, 3, 1, 4], 3, [(1, 3), (2, 5), (0, 6)], opt),
        make_case("sig_predictor_infonce_symmetric_2layers",
                  dict(base, kind="sig_predictor", loss="info_nce", symmetric=True, layers=2, temperature=0.2,
                       d_model=8, ffn_dim=16),
                  2, [2, 5, 4, 1], 0, [(0, 2), (2, 0)], dict(opt, grad_clip=100.0)),
        make_case("sig_predictor_smoothl1_no_final_norm",
                  dict(base, kind="sig_predictor", loss="smooth_l1", symmetric=False, final_norm=False),
                  3, [3, 3, 5, 2], 0, [], opt),
        make_case("mlp_smoothl1", dict(base, kind="mlp", loss="smooth_l1", symmetric=False), 4, [4, 1, 5, 2], 0, [], opt),
    ]
    with open(OUT, "w") as f:
        json.dump(rounded({"generator": "scripts/reference/training_numpy.py", "cases": cases}), f,
                  separators=(",", ":"))
    print("wrote", os.path.relpath(OUT), os.path.getsize(OUT), "bytes;",
          ", ".join("%s loss=%.6f |g|=%.4f" % (c["name"], c["loss"], c["grad_norm"]) for c in cases))
    tbase = {"kind": "token_decoder", "loss": "info_nce", "symmetric": False, "input_dim": 6, "output_dim": 6,
             "d_model": 8, "heads": 2, "ffn_dim": 12, "layers": 1, "final_norm": True, "temperature": 0.1,
             "mlp_hidden": 4, "max_target_tokens": 5, "decoder_layers": 1, "token_loss_weight": 1.0}
    tcases = [
        make_token_case("token_decoder_hard_negatives", tbase, 5, [2, 1, 4], [1, 5, 3], 2, [(1, 3), (0, 2)]),
        make_token_case("token_decoder_2_decoder_layers_no_final_norm",
                        dict(tbase, decoder_layers=2, final_norm=False, token_loss_weight=0.5, max_target_tokens=6),
                        6, [3, 5, 1], [4, 2, 1], 0, []),
    ]
    with open(OUT_TOKEN, "w") as f:
        json.dump(rounded({"generator": "scripts/reference/training_numpy.py", "cases": tcases}), f, separators=(",", ":"))
    print("wrote", os.path.relpath(OUT_TOKEN), os.path.getsize(OUT_TOKEN), "bytes;",
          ", ".join("%s loss=%.6f (info_nce %.6f, token %.6f)" % (c["name"], c["loss"], c["info_nce_loss"], c["token_loss"])
                    for c in tcases))


if __name__ == "__main__":
    main()
