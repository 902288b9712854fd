#!/usr/bin/python3
"""Export a torchvision ResNet-50 to ONNX for the peer benchmarks (bench/peers).

    /usr/bin/python3 scripts/export_onnx.py OUT.onnx [--weights W.safetensors] [--opset 17] [--static B,H,W]

With --weights, torchvision's resnet50(weights=None) is loaded from that safetensors state dict (as
written by bench/peers/write-seeded-weights.ts, or any torchvision-layout file; num_batches_tracked
may be absent); without it, the model gets the seeded initialisation of scripts/full_model_reference.py
(make_fixtures.init_resnet_(model, 0)).

The graph is exported in eval mode (torch folds each BatchNorm into its conv) with input `input`
[batch, 3, height, width] float32 NCHW and output `logits` [batch, 1000]; batch, height and width are
dynamic axes of those names (ONNX Runtime's freeDimensionOverrides can pin them) unless --static
fixes them. Runs on the CPU with Debian's torch 1.13 (about 15 s); no `onnx` Python package is needed.
Newer torch (2.9 and later default to the torch.export-based exporter) is asked for the TorchScript one
(dynamo=False), which writes the same graph; only if that fails is the torch.export-based one tried
(it needs the `onnx` and `onnxscript` packages). The file is written atomically. Self-checks: every
loaded tensor equals the file's, and export leaves the model's output unchanged.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

import numpy as np
import torch
from torchvision.models import resnet50

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import init_resnet_, read_safetensors, setup_torch  # noqa: E402  (shared helpers)


def load_weights(model: torch.nn.Module, path: str) -> None:
    arrays, _ = read_safetensors(path)
    prefixes = ("module.", "model.")
    state = {}
    for name, arr in arrays.items():
        for p in prefixes:
            if name.startswith(p):
                name = name[len(p):]
                break
        state[name] = torch.from_numpy(np.ascontiguousarray(arr).astype(np.float32) if arr.dtype.kind == "f" else arr)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"{path}: missing {missing}, unexpected {unexpected}")
    # Every tensor really is the file's (load_state_dict copies; this guards against silent casts).
    sd = model.state_dict()
    for name, t in state.items():
        if t.is_floating_point() and not torch.equal(sd[name], t):
            sys.exit(f"{path}: {name} differs after loading")


def export(model: torch.nn.Module, x: torch.Tensor, path: str, opset: int, dynamic_axes) -> None:
    """torch.onnx.export with the TorchScript exporter, on any torch from 1.13 on (see the docstring)."""
    kwargs = dict(export_params=True, opset_version=opset, do_constant_folding=True, input_names=["input"],
                  output_names=["logits"], dynamic_axes=dynamic_axes, training=torch.onnx.TrainingMode.EVAL)
    params = inspect.signature(torch.onnx.export).parameters
    if "dynamo" not in params:
        torch.onnx.export(model, x, path, **kwargs)
        return
    kwargs = {k: v for k, v in kwargs.items() if k in params}
    try:
        torch.onnx.export(model, x, path, dynamo=False, **kwargs)
    except Exception as e:  # noqa: BLE001  (the TorchScript exporter may be gone: try the other one)
        print(f"TorchScript ONNX exporter failed ({type(e).__name__}: {e}); trying dynamo=True", file=sys.stderr)
        extra = {"external_data": False} if "external_data" in params else {}
        torch.onnx.export(model, (x,), path, dynamo=True, **kwargs, **extra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="the .onnx file to write")
    ap.add_argument("--weights", help="torchvision-layout safetensors state dict (default: seeded init, seed 0)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--static", metavar="B,H,W", help="fix batch, height and width instead of dynamic axes")
    args = ap.parse_args()

    t0 = time.perf_counter()
    setup_torch(2)
    model = resnet50(weights=None)
    if args.weights:
        load_weights(model, args.weights)
        source = args.weights
    else:
        init_resnet_(model, 0)
        source = "make_fixtures.init_resnet_(resnet50(), 0)"
    model.eval()

    if args.static:
        b, h, w = (int(v) for v in args.static.split(","))
        dynamic_axes = None
    else:
        b, h, w = 1, 224, 224
        dynamic_axes = {"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((b, 3, h, w), dtype=np.float32))

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = f"{args.out}.tmp-{os.getpid()}"
    with torch.no_grad():
        expected = model(x)
        export(model, x, tmp, args.opset, dynamic_axes)
        # Export must not have changed the model (eval mode, no BN statistics updates).
        assert torch.equal(model(x), expected), "the model changed during export"
    os.replace(tmp, args.out)
    size = os.path.getsize(args.out) / 2**20
    shape = f"[{b}, 3, {h}, {w}]" if args.static else "[batch, 3, height, width]"
    print(f"{args.out}: {size:.1f} MiB, opset {args.opset}, input {shape}, weights {source}, "
          f"torch {torch.__version__} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
