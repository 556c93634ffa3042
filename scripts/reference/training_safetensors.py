#!/usr/bin/env python3
"""Writes a small safetensors file with the reference `safetensors` library (F32 tensors of several
shapes, a scalar, metadata), and the expected values as JSON, for the Swift reader's test.
The file is named .bin because *.safetensors is git-ignored (model weights).
Needs: numpy, safetensors (pip install safetensors).
Usage: python3 scripts/reference/training_safetensors.py
"""
import json
import os

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures")
rng = np.random.default_rng(7)
tensors = {
    "input_proj.weight": rng.standard_normal((4, 3)).astype(np.float32),
    "input_proj.bias": rng.standard_normal((4,)).astype(np.float32),
    "blocks.0.attn.in_proj_weight": rng.standard_normal((6, 2, 1)).astype(np.float32),
    "log_temperature": np.array(np.log(0.07), dtype=np.float32),
}
save_file(tensors, os.path.join(OUT, "reference_safetensors.bin"), metadata={"format": "pt", "step": "12"})
expected = {k: {"shape": list(v.shape), "values": [float(x) for x in v.reshape(-1)]} for k, v in tensors.items()}
with open(os.path.join(OUT, "reference_safetensors.json"), "w") as f:
    json.dump({"metadata": {"format": "pt", "step": "12"}, "tensors": expected}, f, indent=1)
print("wrote reference_safetensors.bin and reference_safetensors.json")
