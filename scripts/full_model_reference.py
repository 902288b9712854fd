#!/usr/bin/python3
"""Full-size ResNet-50 reference outputs (not committed; CI runs this on demand).

    /usr/bin/python3 scripts/full_model_reference.py OUTDIR

Builds torchvision's resnet50(weights=None), initialises it with the same seeded recipe as the
committed div8 fixture (make_fixtures.init_resnet_), and writes to OUTDIR:

  resnet50.safetensors, resnet50_f16.safetensors   state dict, F32 / F16 floats (num_batches_tracked I64)
  x_b1_224.npy [1,3,224,224]    x_b4_224.npy [4,3,224,224]
  x_b1_160x288.npy [1,3,160,288]  x_b4_160x288.npy [4,3,160,288]
  <input>.logits.npy [N,1000], <input>.features.npy [N,2048]          (F32 weights)
  <input>.f16.logits.npy, <input>.f16.features.npy   (weights rounded to f16, computed in f32)

CPU, float32, eval mode, 2 threads, deterministic.
"""

from __future__ import annotations

import os
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
from torchvision.models import resnet50

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import (  # noqa: E402  (shared helpers)
    f32c,
    init_resnet_,
    randn,
    read_safetensors,
    rng_for,
    round_weights_to_f16,
    setup_torch,
    state_dict_arrays,
    write_safetensors,
)

SEED = 0
INPUT_SEED = 200
INPUTS = OrderedDict([
    ("x_b1_224", (1, 3, 224, 224)),
    ("x_b4_224", (4, 3, 224, 224)),
    ("x_b1_160x288", (1, 3, 160, 288)),
    ("x_b4_160x288", (4, 3, 160, 288)),
])


def features_and_logits(model, x: torch.Tensor) -> "tuple[torch.Tensor, torch.Tensor]":
    """torchvision ResNet forward, also returning the flattened avgpool output."""
    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    h = model.layer4(model.layer3(model.layer2(model.layer1(h))))
    feats = torch.flatten(model.avgpool(h), 1)
    return feats, model.fc(feats)


def main(out_dir: str) -> None:
    t_start = time.perf_counter()
    setup_torch(2)
    os.makedirs(out_dir, exist_ok=True)

    t = time.perf_counter()
    model = init_resnet_(resnet50(weights=None), SEED)
    model_f16 = init_resnet_(resnet50(weights=None), SEED)
    round_weights_to_f16(model_f16)
    print(f"init: {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    meta = {"format": "pt", "arch": "resnet50", "generator": "scripts/full_model_reference.py", "seed": str(SEED)}
    sd32 = state_dict_arrays(model, np.float32)
    sd16 = state_dict_arrays(model, np.float16)
    write_safetensors(os.path.join(out_dir, "resnet50.safetensors"), sd32, meta)
    write_safetensors(os.path.join(out_dir, "resnet50_f16.safetensors"), sd16, meta)
    # Self-check: the f16 file holds exactly the values the f16 model runs with.
    back16, _ = read_safetensors(os.path.join(out_dir, "resnet50_f16.safetensors"))
    for k, v in model_f16.state_dict().items():
        assert np.array_equal(v.numpy(), back16[k].astype(v.numpy().dtype)), k
    print(f"safetensors ({len(sd32)} tensors): {time.perf_counter() - t:.1f}s")

    rng = rng_for(INPUT_SEED)
    for name, shape in INPUTS.items():
        x = randn(rng, *shape)
        np.save(os.path.join(out_dir, f"{name}.npy"), x, allow_pickle=False)
        xt = torch.from_numpy(x)
        for tag, m in [("", model), (".f16", model_f16)]:
            t = time.perf_counter()
            feats, logits = features_and_logits(m, xt)
            assert torch.equal(logits, m(xt)), "staged forward differs from model.forward"
            np.save(os.path.join(out_dir, f"{name}{tag}.features.npy"), f32c(feats), allow_pickle=False)
            np.save(os.path.join(out_dir, f"{name}{tag}.logits.npy"), f32c(logits), allow_pickle=False)
            print(f"{name}{tag or '    '}: {time.perf_counter() - t:5.2f}s  features std {float(feats.std()):.3f}, "
                  f"logits std {float(logits.std()):.3f}, argmax {logits.argmax(1).tolist()}")

    print(f"total: {time.perf_counter() - t_start:.1f}s -> {out_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: full_model_reference.py OUTDIR")
    main(sys.argv[1])
