#!/usr/bin/python3
"""Check that `resnet50 convert` writes safetensors PyTorch loads, and that a .pth and its conversion agree.

    /usr/bin/python3 scripts/check_convert.py [--keep DIR] [--small-only]

1. The committed reduced model, test/fixtures/pth/resnet50_div8.pth, converted to F32, F16 and
   BatchNorm-folded safetensors. Every file must pass the checks of the reference `safetensors`
   reader (the package is not installed here, so they are re-implemented below) and is loaded with
   torch.frombuffer:
     F32     load_state_dict(strict=True) into the model; logits equal, bit for bit, those of the
             .pth loaded by torch.load
     F16     every tensor equals the original's .half()
     folded  load_state_dict(strict=True) into the same model with conv biases and each BatchNorm
             replaced by nn.Identity; logits within 1e-5 (relative) of the original's
2. A full-size seeded torchvision ResNet-50 (scripts/full_model_reference.py's recipe) saved with
   torch.save into a temporary folder: the same checks with torchvision.models.resnet50(), then
     npx resnet50 classify x.npy --weights resnet50.pth --device cpu --out a.npy
   and the same through the converted F32 and folded files must give bit-identical logits, close
   to PyTorch's. Peak memory (max RSS) of reading the .pth is reported beside the file's size.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import resnet50

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import REPO_ROOT, ResNet50Div8, init_resnet_, randn, rng_for, setup_torch  # noqa: E402

BIN = os.path.join(REPO_ROOT, "bin", "resnet50.js")
SMALL_PTH = os.path.join(REPO_ROOT, "test", "fixtures", "pth", "resnet50_div8.pth")
SMALL_INPUT = os.path.join(REPO_ROOT, "test", "fixtures", "resnet50_div8", "input_b2_64x64.npy")

# The reference reader's dtypes (safetensors/src/tensor.rs) and their torch equivalents.
ST_DTYPES = {
    "BOOL": (torch.bool, 1), "U8": (torch.uint8, 1), "I8": (torch.int8, 1), "I16": (torch.int16, 2),
    "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "I32": (torch.int32, 4), "F32": (torch.float32, 4),
    "F64": (torch.float64, 8), "I64": (torch.int64, 8),
}
MAX_HEADER = 100_000_000


class Failed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


# --------------------------------------------------------------------------------------------
# The reference safetensors reader's checks, then torch.frombuffer
# --------------------------------------------------------------------------------------------

def load_safetensors(path: str) -> "tuple[dict[str, torch.Tensor], dict[str, str], dict]":
    """Validate as safetensors' SafeTensors::deserialize does; returns tensors, metadata and layout facts."""
    with open(path, "rb") as f:
        raw = f.read()
    check(len(raw) >= 8, "HeaderTooSmall")
    (n,) = struct.unpack("<Q", raw[:8])
    check(n <= MAX_HEADER, "HeaderTooLarge")
    check(8 + n <= len(raw), "InvalidHeaderLength")
    try:
        text = raw[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as e:
        raise Failed("InvalidHeader (not UTF-8)") from e
    check(text.startswith("{"), "InvalidHeaderStart")

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        check(len(keys) == len(set(keys)), f"InvalidHeaderDeserialization (repeated key in {keys})")
        return dict(pairs)

    try:
        header = json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as e:
        raise Failed(f"InvalidHeaderDeserialization ({e})") from e
    metadata = header.pop("__metadata__", {})
    check(isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()), "__metadata__ is not {str: str}")
    entries = []
    for name, info in header.items():
        check(isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"}, f"{name}: bad entry {info}")
        check(info["dtype"] in ST_DTYPES, f"{name}: unknown dtype {info['dtype']}")
        shape, offsets = info["shape"], info["data_offsets"]
        check(isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape), f"{name}: bad shape")
        check(isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and o >= 0 for o in offsets), f"{name}: bad offsets")
        entries.append((name, info["dtype"], shape, offsets))
    entries.sort(key=lambda e: tuple(e[3]))  # validate() walks the tensors in offset order
    data = raw[8 + n :]
    position, tensors, unaligned = 0, {}, []
    for name, dtype, shape, (begin, end) in entries:
        check(begin == position and end >= begin, f"InvalidOffset({name})")
        position = end
        torch_dtype, size = ST_DTYPES[dtype]
        check(end - begin == int(np.prod(shape, dtype=np.int64)) * size, f"TensorInvalidInfo({name})")
        if (8 + n + begin) % size:
            unaligned.append(name)
        chunk = bytearray(data[begin:end])
        tensors[name] = (torch.frombuffer(chunk, dtype=torch_dtype) if chunk else torch.empty(0, dtype=torch_dtype)).reshape(shape)
    check(position == len(data), "MetadataIncompleteBuffer")
    layout = {"header_padded_to_8": (8 + n) % 8 == 0, "unaligned_tensors": unaligned}
    check(layout["header_padded_to_8"], "the data section does not start 8-aligned (writers pad the header with spaces)")
    return tensors, metadata, layout


# --------------------------------------------------------------------------------------------
# Models and commands
# --------------------------------------------------------------------------------------------

def folded_variant(model: nn.Module) -> nn.Module:
    """The model as `convert --fold-bn` stores it: every conv with a bias, every BatchNorm an identity."""
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, nn.Identity())
            elif isinstance(child, nn.Conv2d):
                child.bias = nn.Parameter(torch.zeros(child.out_channels))
    return model


def max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def run(*args: str) -> "tuple[float, int]":
    """Run a command (stdout discarded); returns its wall time and peak RSS in KiB, as /usr/bin/time measures it.

    (A child forked from this Python process would count Python's own RSS in its peak; /usr/bin/time's does not.)
    """
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "maxrss=%M", *args], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = result.stderr.decode().strip().splitlines()
    check(result.returncode == 0, f"{' '.join(args)} failed: {' '.join(err)}")
    return time.perf_counter() - started, int(err[-1].removeprefix("maxrss="))


def convert(src: str, dst: str, *options: str) -> None:
    seconds, rss = run("node", BIN, "convert", src, dst, *options)
    print(f"  convert {' '.join(options) or '(f32)'}: {os.path.getsize(dst)} bytes in {seconds:.1f}s, max RSS {rss / 1024:.0f} MiB")


def verify_conversions(label: str, pth: str, make_model, x: torch.Tensor, work: str) -> "dict[str, str]":
    """Convert `pth` three ways and check each file in PyTorch; returns the converted paths."""
    print(f"{label}: {pth} ({os.path.getsize(pth)} bytes)")
    original = torch.load(pth)
    model = make_model()
    model.load_state_dict(original, strict=True)
    reference = model.eval()(x)
    paths = {kind: os.path.join(work, f"{label}.{kind}.safetensors") for kind in ("f32", "f16", "folded")}
    convert(pth, paths["f32"])
    convert(pth, paths["f16"], "--dtype", "f16")
    convert(pth, paths["folded"], "--fold-bn")

    tensors, metadata, layout = load_safetensors(paths["f32"])
    check(metadata == {"format": "pt"}, f"metadata {metadata}")
    fresh = make_model()
    fresh.load_state_dict(tensors, strict=True)
    check(torch.equal(fresh.eval()(x), reference), "F32: logits differ from the .pth's")
    print(f"  f32: reference checks pass ({len(tensors)} tensors, {len(layout['unaligned_tensors'])} not aligned to their element size); "
          "load_state_dict(strict=True); logits equal to the .pth's, bit for bit")

    tensors, _, layout = load_safetensors(paths["f16"])
    check(set(tensors) == set(original), "F16: names differ")
    for name, value in original.items():
        want = value.half() if value.is_floating_point() else value
        check(tensors[name].dtype == want.dtype and torch.equal(tensors[name], want), f"F16: {name} is not the original's .half()")
    print(f"  f16: reference checks pass; every tensor equals the original's .half() "
          f"({len(layout['unaligned_tensors'])} not aligned to their element size: {', '.join(layout['unaligned_tensors'][:3]) or '-'})")

    tensors, _, _ = load_safetensors(paths["folded"])
    folded = folded_variant(make_model())
    folded.load_state_dict(tensors, strict=True)
    error = max_rel(folded.eval()(x), reference)
    check(error <= 1e-5, f"folded: logits max-rel error {error:.2e}")
    print(f"  folded: reference checks pass ({len(tensors)} tensors); load_state_dict(strict=True) into the model with "
          f"conv biases and nn.Identity BatchNorms; logits max-rel error {error:.1e}")
    return paths


def classify(weights: str, x_path: str, out: str) -> np.ndarray:
    run("npx", "resnet50", "classify", x_path, "--weights", weights, "--device", "cpu", "--out", out)
    return np.load(out)


def check_cli(pth: str, paths: "dict[str, str]", x_path: str, reference: torch.Tensor, work: str) -> None:
    a = classify(pth, x_path, os.path.join(work, "a.npy"))
    for kind in ("f32", "folded"):
        b = classify(paths[kind], x_path, os.path.join(work, f"b.{kind}.npy"))
        check(a.tobytes() == b.tobytes(), f"classify through the {kind} conversion differs from through the .pth")
    error = max_rel(torch.from_numpy(a), reference)
    check(error <= 1e-4, f"classify: max-rel error {error:.2e} against PyTorch")
    print(f"  npx resnet50 classify --weights .pth / converted f32 / folded (--device cpu): logits bit-identical; "
          f"max-rel error against PyTorch {error:.1e}, argmax {a.argmax(1).tolist()}")


READ_ALL = """
import {{ readWeightsArchive }} from './src/cli/weights.ts';
const archive = await readWeightsArchive({path});
let values = 0;
for (const t of archive.tensors.values()) if (t.dtype !== 'I64') values += t.toFloat32().length;
console.log(values);
"""


def memory_of_reading(pth: str) -> None:
    node = ("node", "--import", "tsx", "--input-type=module", "-e")
    _, baseline = run(*node, "1")
    seconds, rss = run(*node, READ_ALL.format(path=json.dumps(pth)))
    size = os.path.getsize(pth) / 2**20
    print(f"  reading the .pth and every tensor's toFloat32(): {seconds:.1f}s, max RSS {rss / 1024:.0f} MiB "
          f"(node + tsx alone: {baseline / 1024:.0f} MiB; file: {size:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", help="work in this folder and keep it")
    parser.add_argument("--small-only", action="store_true", help="skip the full-size model")
    args = parser.parse_args()
    setup_torch(2)
    work = args.keep or tempfile.mkdtemp(prefix="resnet50-convert-")
    os.makedirs(work, exist_ok=True)
    started = time.perf_counter()
    try:
        x_small = torch.from_numpy(np.load(SMALL_INPUT))
        paths = verify_conversions("resnet50_div8", SMALL_PTH, lambda: ResNet50Div8(num_classes=10), x_small, work)
        model = ResNet50Div8(num_classes=10)
        model.load_state_dict(torch.load(SMALL_PTH))
        check_cli(SMALL_PTH, paths, SMALL_INPUT, model.eval()(x_small), work)

        if not args.small_only:
            pth = os.path.join(work, "resnet50.pth")
            full = init_resnet_(resnet50(weights=None), 0)
            torch.save(full.state_dict(), pth)
            x_path = os.path.join(work, "x.npy")
            x = randn(rng_for(200), 1, 3, 224, 224)
            np.save(x_path, x, allow_pickle=False)
            x = torch.from_numpy(x)
            paths = verify_conversions("resnet50", pth, lambda: resnet50(weights=None), x, work)
            check_cli(pth, paths, x_path, full(x), work)
            memory_of_reading(pth)
    except Failed as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"all checks passed in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
