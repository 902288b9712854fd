#!/usr/bin/python3
"""Generate the committed PyTorch reference fixtures under test/fixtures/.

Run with the Debian interpreter that has torch 1.13 / torchvision 0.14:

    /usr/bin/python3 scripts/make_fixtures.py            # writes test/fixtures/
    /usr/bin/python3 scripts/make_fixtures.py OUTDIR     # writes somewhere else

Everything is seeded, CPU-only, float32 and eval mode, and a re-run produces byte-identical
files. Outputs (see test/fixtures/README.md, written by this script, for the full list):

  ops/             per-op cases (<case>.<role>.npy), described by manifest.json
  resnet50_div8/   a ResNet-50 v1.5 with every width divided by 8: weights as safetensors
                   (F32, F16, and an fc-less `module.`-prefixed copy), two inputs, and the
                   PyTorch activations after every stage
  npy/             .npy format cases for the reader, including two it must reject
  manifest.json    machine-readable index of all of the above
  README.md

The helpers at the top (safetensors writer/reader, the seeded ResNet initialiser, the staged
forward pass) are shared with scripts/full_model_reference.py, which imports this module.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import Bottleneck, ResNet

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures")

BN_EPS = 1e-5


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------

def setup_torch(num_threads: int = 2) -> None:
    """CPU-only, fixed thread count, deterministic kernels, no autograd."""
    torch.set_num_threads(num_threads)
    torch.use_deterministic_algorithms(True)
    torch.set_grad_enabled(False)
    torch.manual_seed(0)


def rng_for(seed: int) -> np.random.Generator:
    """All random numbers come from NumPy's PCG64 (stable across NumPy and torch versions)."""
    return np.random.default_rng(seed)


def randn(rng: np.random.Generator, *shape: int, std: float = 1.0, mean: float = 0.0) -> np.ndarray:
    return (rng.standard_normal(shape) * std + mean).astype(np.float32)


def uniform(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> np.ndarray:
    return rng.uniform(lo, hi, shape).astype(np.float32)


def f32c(a) -> np.ndarray:
    """A float32, C-contiguous NumPy copy of a tensor or array."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return c_order(a, np.float32)


def c_order(a, dtype) -> np.ndarray:
    """A C-contiguous copy with the given dtype. (np.ascontiguousarray would turn 0-d into 1-d.)"""
    return np.array(a, dtype=dtype, order="C", copy=True)


# --------------------------------------------------------------------------------------------
# safetensors writer / reader (no dependency on the `safetensors` package)
#
# Layout: u64 little-endian header length N, then N bytes of UTF-8 JSON
#   {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
#    "__metadata__": {"key": "string value", ...}}
# padded with trailing spaces to a multiple of 8, then the tensor bytes. Offsets are relative
# to the first byte after the header; tensors are stored back to back, in the order given.
# --------------------------------------------------------------------------------------------

_ST_DTYPES = {
    np.dtype(np.float32): ("F32", "<f4"),
    np.dtype(np.float16): ("F16", "<f2"),
    np.dtype(np.int64): ("I64", "<i8"),
}
_ST_NUMPY = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


def write_safetensors(path: str, tensors: "OrderedDict[str, np.ndarray]", metadata: dict | None = None) -> None:
    header: "OrderedDict[str, object]" = OrderedDict()
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        if arr.dtype not in _ST_DTYPES:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        st_dtype, le = _ST_DTYPES[arr.dtype]
        data = c_order(arr, le).tobytes()
        header[name] = OrderedDict(
            [("dtype", st_dtype), ("shape", list(arr.shape)), ("data_offsets", [offset, offset + len(data)])]
        )
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: str) -> "tuple[OrderedDict[str, np.ndarray], dict]":
    """Read back what write_safetensors wrote (used for self-checks and f16 round-tripping)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    expected = 0
    for name, info in header.items():
        begin, end = info["data_offsets"]
        assert begin == expected, f"{name}: hole or overlap at {begin}"
        expected = end
        arr = np.frombuffer(raw[base + begin : base + end], dtype=_ST_NUMPY[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).copy()
    assert base + expected == len(raw), "trailing bytes after the last tensor"
    return out, metadata


def state_dict_arrays(model: nn.Module, float_dtype=np.float32, prefix: str = "", skip=()) -> "OrderedDict[str, np.ndarray]":
    """The model's state dict as NumPy arrays: floats as `float_dtype`, num_batches_tracked int64."""
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    for name, t in model.state_dict().items():
        if any(name.startswith(s) for s in skip):
            continue
        a = t.detach().cpu().numpy()
        out[prefix + name] = c_order(a, np.int64 if t.dtype == torch.int64 else float_dtype)
    return out


def round_weights_to_f16(model: nn.Module) -> None:
    """In place: round every floating-point parameter/buffer to float16 and back to float32."""
    sd = model.state_dict()
    for name, t in sd.items():
        if t.is_floating_point():
            sd[name] = t.half().float()
    model.load_state_dict(sd)


# --------------------------------------------------------------------------------------------
# ResNet construction, seeded initialisation and staged forward
# --------------------------------------------------------------------------------------------

class ResNet50Div8(ResNet):
    """torchvision's ResNet-50 v1.5 with every width divided by 8.

    Stem 8 channels, Bottleneck inner widths [8, 16, 32, 64] (outputs [32, 64, 128, 256]),
    blocks [3, 4, 6, 3], stride on the 3x3 conv, projection shortcut on each stage's first
    block, 256-d features. Built from torchvision's own Bottleneck and ResNet._make_layer, so
    the state-dict keys are exactly torchvision's; forward() is inherited unchanged.
    """

    def __init__(self, num_classes: int = 10) -> None:
        nn.Module.__init__(self)  # skip ResNet.__init__, which hard-codes 64-wide layers
        self._norm_layer = nn.BatchNorm2d
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # Bottleneck's inner width = planes * base_width / 64 = planes
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(Bottleneck, 8, 3)
        self.layer2 = self._make_layer(Bottleneck, 16, 4, stride=2)
        self.layer3 = self._make_layer(Bottleneck, 32, 6, stride=2)
        self.layer4 = self._make_layer(Bottleneck, 64, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64 * Bottleneck.expansion, num_classes)


# Extra std factor on each Bottleneck's conv3 (see init_resnet_).
RESIDUAL_BRANCH_GAIN = 0.25


def init_resnet_(model: nn.Module, seed: int) -> nn.Module:
    """Seeded, non-trivial initialisation shared by the div8 fixture and the full-size model.

    conv weights  N(0, sqrt(2 / fan_in))   (He init on fan_in), except the last conv of each
                  Bottleneck's residual branch (conv3), whose std is further multiplied by
                  RESIDUAL_BRANCH_GAIN. Eval-mode BN does not renormalise, so with plain He init
                  every block roughly doubles the trunk's variance (std ~340 after layer4 of the
                  div8 model); the damped branch keeps activations O(1) through all 16 blocks.
    BN gamma      U(0.5, 1.5)   beta N(0, 0.1)   running_mean N(0, 0.1)   running_var U(0.5, 2.0)
    BN num_batches_tracked = 1000 + index of the BN layer
    fc weight     N(0, 0.05)    fc bias N(0, 0.1)
    Modules are visited in named_modules() order, so the draw order is fixed.
    """
    rng = rng_for(seed)
    branch_ends = {id(m.conv3) for m in model.modules() if isinstance(m, Bottleneck)}
    bn_index = 0
    for _, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            std = float(np.sqrt(2.0 / fan_in)) * (RESIDUAL_BRANCH_GAIN if id(m) in branch_ends else 1.0)
            m.weight.copy_(torch.from_numpy(randn(rng, *m.weight.shape, std=std)))
            if m.bias is not None:
                m.bias.copy_(torch.from_numpy(randn(rng, *m.bias.shape, std=0.1)))
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.copy_(torch.from_numpy(uniform(rng, 0.5, 1.5, c)))
            m.bias.copy_(torch.from_numpy(randn(rng, c, std=0.1)))
            m.running_mean.copy_(torch.from_numpy(randn(rng, c, std=0.1)))
            m.running_var.copy_(torch.from_numpy(uniform(rng, 0.5, 2.0, c)))
            m.num_batches_tracked.fill_(1000 + bn_index)
            bn_index += 1
        elif isinstance(m, nn.Linear):
            m.weight.copy_(torch.from_numpy(randn(rng, *m.weight.shape, std=0.05)))
            m.bias.copy_(torch.from_numpy(randn(rng, *m.bias.shape, std=0.1)))
    return model.eval()


STAGES = ["stem", "maxpool", "layer1", "layer2", "layer3", "layer4", "features", "logits"]


def forward_stages(model: ResNet, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
    """Run a torchvision ResNet submodule by submodule, returning every stage's output."""
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    h = model.relu(model.bn1(model.conv1(x)))
    out["stem"] = h
    h = model.maxpool(h)
    out["maxpool"] = h
    for name in ["layer1", "layer2", "layer3", "layer4"]:
        h = getattr(model, name)(h)
        out[name] = h
    h = torch.flatten(model.avgpool(h), 1)
    out["features"] = h
    out["logits"] = model.fc(h)
    return out


# --------------------------------------------------------------------------------------------
# Fixture writer bookkeeping
# --------------------------------------------------------------------------------------------

class FixtureWriter:
    def __init__(self, root: str) -> None:
        self.root = root
        self.files: "list[tuple[str, str]]" = []  # (relative path, description)

    def path(self, rel: str) -> str:
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def npy(self, rel: str, arr: np.ndarray, desc: str = "") -> str:
        np.save(self.path(rel), arr, allow_pickle=False)
        self.files.append((rel, desc or f"{arr.dtype} {list(arr.shape)}"))
        return rel

    def safetensors(self, rel: str, tensors, metadata, desc: str) -> str:
        write_safetensors(self.path(rel), tensors, metadata)
        back, _ = read_safetensors(self.path(rel))  # self-check: the round trip is exact
        assert list(back) == list(tensors)
        for k in tensors:
            assert back[k].dtype == tensors[k].dtype and np.array_equal(back[k], tensors[k]), k
        self.files.append((rel, desc))
        return rel

    def text(self, rel: str, content: str, desc: str) -> None:
        with open(self.path(rel), "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        self.files.append((rel, desc))


# --------------------------------------------------------------------------------------------
# a) per-op cases
# --------------------------------------------------------------------------------------------

def make_op_cases(w: FixtureWriter, seed: int = 1) -> list:
    rng = rng_for(seed)
    cases = []

    def add_case(name: str, op: str, params: dict, arrays: "OrderedDict[str, np.ndarray]") -> None:
        files = OrderedDict()
        shapes = OrderedDict()
        for role, arr in arrays.items():
            arr = f32c(arr)
            files[role] = w.npy(f"ops/{name}.{role}.npy", arr, f"{op} `{role}` float32 {list(arr.shape)}")
            shapes[role] = list(arr.shape)
        case = OrderedDict([("name", name), ("op", op)])
        case.update(params)
        case["files"] = files
        case["shapes"] = shapes
        cases.append(case)

    # conv2d: (name, N, Cin, Cout, H, W, kernel, stride, padding, bias)
    conv_specs = [
        ("conv_k1_s1_p0", 2, 5, 7, 13, 11, 1, 1, 0, True),
        ("conv_k1_s2_p0", 2, 5, 7, 9, 15, 1, 2, 0, True),
        ("conv_k3_s1_p1", 2, 5, 7, 13, 11, 3, 1, 1, True),
        ("conv_k3_s2_p1", 2, 5, 7, 9, 15, 3, 2, 1, True),
        ("conv_k7_s2_p3", 2, 3, 13, 13, 11, 7, 2, 3, True),
        ("conv_k3_s2_p1_nobias", 2, 5, 7, 13, 11, 3, 2, 1, False),
    ]
    for name, n, cin, cout, h, wd, k, s, p, has_bias in conv_specs:
        x = randn(rng, n, cin, h, wd)
        weight = randn(rng, cout, cin, k, k, std=float(np.sqrt(2.0 / (cin * k * k))))
        bias = randn(rng, cout, std=0.5) if has_bias else None
        y = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight),
                     None if bias is None else torch.from_numpy(bias), stride=s, padding=p)
        arrays = OrderedDict([("x", x), ("weight", weight)])
        if bias is not None:
            arrays["bias"] = bias
        arrays["y"] = y
        add_case(name, "conv2d", OrderedDict([("kernel", k), ("stride", s), ("padding", p), ("bias", has_bias)]), arrays)

    # batchnorm, eval mode, non-trivial statistics
    c = 7
    x = randn(rng, 2, c, 9, 15, std=1.5, mean=0.3)
    gamma, beta = uniform(rng, 0.5, 1.5, c), randn(rng, c, std=0.3)
    mean, var = randn(rng, c, std=0.5), uniform(rng, 0.25, 3.0, c)
    y = F.batch_norm(torch.from_numpy(x), torch.from_numpy(mean), torch.from_numpy(var),
                     torch.from_numpy(gamma), torch.from_numpy(beta), training=False, eps=BN_EPS)
    add_case("batchnorm", "batchnorm", OrderedDict([("eps", BN_EPS)]),
             OrderedDict([("x", x), ("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var), ("y", y)]))

    # relu, with some exact zeros and negative zeros in the input
    x = randn(rng, 2, 5, 13, 11)
    x[0, 0, 0, :4] = [0.0, -0.0, 0.0, -0.0]
    add_case("relu", "relu", OrderedDict(), OrderedDict([("x", x), ("y", F.relu(torch.from_numpy(x)))]))

    # residual add
    a, b = randn(rng, 2, 7, 9, 15), randn(rng, 2, 7, 9, 15)
    add_case("add", "add", OrderedDict(), OrderedDict([("a", a), ("b", b), ("y", torch.from_numpy(a) + torch.from_numpy(b))]))

    # maxpool 3x3/2 pad 1. Channel 1 is entirely negative and the top-left corner of channel 0
    # is negative, so an implementation that lets the (implicit -inf) padding win, or pads
    # with 0, gets those windows wrong.
    for name, h, wd in [("maxpool_13x11", 13, 11), ("maxpool_8x8", 8, 8)]:
        x = randn(rng, 2, 3, h, wd)
        x[:, 1] = -np.abs(x[:, 1]) - 1.0
        x[:, 0, :4, :4] = -np.abs(x[:, 0, :4, :4]) - 0.5
        y = F.max_pool2d(torch.from_numpy(x), kernel_size=3, stride=2, padding=1)
        add_case(name, "maxpool", OrderedDict([("kernel", 3), ("stride", 2), ("padding", 1)]),
                 OrderedDict([("x", x), ("y", y)]))

    # global average pool -> [N, C]
    x = randn(rng, 2, 7, 9, 15, mean=0.2)
    y = torch.flatten(F.adaptive_avg_pool2d(torch.from_numpy(x), 1), 1)
    add_case("global_avg_pool", "global_avg_pool", OrderedDict(), OrderedDict([("x", x), ("y", y)]))

    # linear
    x, weight, bias = randn(rng, 3, 37), randn(rng, 11, 37, std=0.2), randn(rng, 11, std=0.1)
    y = F.linear(torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias))
    add_case("linear", "linear", OrderedDict(), OrderedDict([("x", x), ("weight", weight), ("bias", bias), ("y", y)]))

    # conv (k3 s1 p1, no bias) followed by eval BN: checks conv+BN folding
    cin, cout = 5, 7
    x = randn(rng, 2, cin, 13, 11)
    weight = randn(rng, cout, cin, 3, 3, std=float(np.sqrt(2.0 / (cin * 9))))
    gamma, beta = uniform(rng, 0.5, 1.5, cout), randn(rng, cout, std=0.3)
    mean, var = randn(rng, cout, std=0.5), uniform(rng, 0.25, 3.0, cout)
    conv = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), None, stride=1, padding=1)
    y = F.batch_norm(conv, torch.from_numpy(mean), torch.from_numpy(var),
                     torch.from_numpy(gamma), torch.from_numpy(beta), training=False, eps=BN_EPS)
    add_case("conv_bn_fold", "conv_bn", OrderedDict([("kernel", 3), ("stride", 1), ("padding", 1), ("eps", BN_EPS)]),
             OrderedDict([("x", x), ("weight", weight), ("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var), ("y", y)]))
    return cases


# --------------------------------------------------------------------------------------------
# b) reduced-width ResNet-50
# --------------------------------------------------------------------------------------------

def make_resnet50_div8(w: FixtureWriter, seed: int = 0) -> dict:
    d = "resnet50_div8"
    model = init_resnet_(ResNet50Div8(num_classes=10), seed)
    meta = {"format": "pt", "arch": "resnet50_div8", "generator": "scripts/make_fixtures.py", "seed": str(seed)}

    sd32 = state_dict_arrays(model, np.float32)
    sd16 = state_dict_arrays(model, np.float16)
    nofc = state_dict_arrays(model, np.float32, prefix="module.", skip=("fc.",))
    w.safetensors(f"{d}/weights.safetensors", sd32, meta, f"state dict, {len(sd32)} tensors, F32 (num_batches_tracked I64)")
    w.safetensors(f"{d}/weights_f16.safetensors", sd16, meta, "same state dict, floats as F16 (num_batches_tracked I64)")
    w.safetensors(f"{d}/weights_nofc.safetensors", nofc, dict(meta, note="no fc, keys prefixed with module."),
                  "state dict without fc.*, keys prefixed `module.`, F32")

    in_rng = rng_for(seed + 100)
    inputs = OrderedDict([
        ("input_b2_64x64", randn(in_rng, 2, 3, 64, 64)),
        ("input_b1_45x61", randn(in_rng, 1, 3, 45, 61)),
    ])
    model_f16 = init_resnet_(ResNet50Div8(num_classes=10), seed)
    round_weights_to_f16(model_f16)
    # the f16-rounded model must hold exactly the values stored in weights_f16.safetensors
    for k, v in model_f16.state_dict().items():
        assert np.array_equal(v.numpy(), sd16[k].astype(v.numpy().dtype)), k

    info = OrderedDict([("num_classes", 10), ("features", 256), ("stages", STAGES), ("inputs", OrderedDict())])
    info["weights"] = OrderedDict([("f32", f"{d}/weights.safetensors"), ("f16", f"{d}/weights_f16.safetensors"),
                                   ("nofc", f"{d}/weights_nofc.safetensors")])
    for stem, x in inputs.items():
        xt = torch.from_numpy(x)
        entry = OrderedDict([("input", w.npy(f"{d}/{stem}.npy", x, f"input float32 {list(x.shape)}")), ("stages", OrderedDict()), ("shapes", OrderedDict())])
        outs = forward_stages(model, xt)
        assert torch.equal(outs["logits"], model(xt)), "staged forward differs from model.forward"
        for stage, t in outs.items():
            a = f32c(t)
            entry["stages"][stage] = w.npy(f"{d}/{stem}.{stage}.npy", a, f"PyTorch `{stage}` output {list(a.shape)}")
            entry["shapes"][stage] = list(a.shape)
        print(f"  {stem}: " + ", ".join(f"{k} std {float(v.std()):.3f}" for k, v in outs.items()))
        print(f"  {stem}: logits std {float(outs['logits'].std()):.4f}, "
              f"argmax {outs['logits'].argmax(1).tolist()}, "
              f"first row [{', '.join(f'{v:.3f}' for v in outs['logits'][0].tolist())}]")
        if stem == "input_b2_64x64":
            o16 = forward_stages(model_f16, xt)
            entry["f16weights"] = OrderedDict()
            for stage in ["features", "logits"]:
                a = f32c(o16[stage])
                entry["f16weights"][stage] = w.npy(f"{d}/{stem}.f16weights.{stage}.npy", a,
                                                   f"`{stage}` with weights rounded to f16, run in f32")
            print(f"  {stem}: f16-weights logits max |diff| vs f32 "
                  f"{float((o16['logits'] - outs['logits']).abs().max()):.3e}")
        info["inputs"][stem] = entry
    return info


# --------------------------------------------------------------------------------------------
# c) .npy format cases
# --------------------------------------------------------------------------------------------

def make_npy_cases(w: FixtureWriter) -> list:
    cases = []

    def case(name: str, arr: np.ndarray, valid: bool, why: str = "") -> None:
        rel = f"npy/{name}.npy"
        np.save(w.path(rel), arr, allow_pickle=False)
        w.files.append((rel, why or f"{arr.dtype.str} {list(arr.shape)}"))
        entry = OrderedDict([("name", name), ("file", rel), ("valid", valid)])
        if valid:
            entry["dtype"] = {"<f4": "f32", "<f2": "f16", "<i8": "i64"}[arr.dtype.str]
            entry["shape"] = list(arr.shape)
            # exact values; for f16 also the raw IEEE half bits
            entry["values"] = [int(v) if arr.dtype.kind == "i" else float(v) for v in arr.reshape(-1)]
            if arr.dtype == np.float16:
                entry["bits"] = [int(b) for b in arr.view(np.uint16).reshape(-1)]
        else:
            entry["reason"] = why
        cases.append(entry)

    case("f32_2x3", np.array([[1.5, -2.25, 0.0], [3.0e-8, 1.0e6, -7.125]], dtype=np.float32), True)
    case("f16_4", np.array([1.0, -0.5, 65504.0, 5.9604645e-08], dtype=np.float16), True)  # incl. max and min subnormal
    case("i64_5", np.array([0, -1, 2 ** 40, -(2 ** 53) + 1, 7], dtype=np.int64), True)
    case("f32_scalar", np.array(3.25, dtype=np.float32), True)
    case("f32_bigendian", np.array([1.0, 2.0, 3.0], dtype=">f4"), False, "big-endian '>f4': must be rejected")
    case("f32_fortran_3x2", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(3, 2)), False,
         "fortran_order True: must be rejected")
    return cases


# --------------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------------

README_HEAD = """# Test fixtures

Generated by `scripts/make_fixtures.py` with PyTorch {torch} / torchvision {tv} / NumPy {np}
(CPU, float32, eval mode, seeded; a re-run reproduces every byte). Do not edit by hand:
run `npm run fixtures` (i.e. `/usr/bin/python3 scripts/make_fixtures.py`).

- `.npy` files are `np.save` output: little-endian, C order, float32 unless stated.
- `.safetensors` files: u64 LE header length, JSON header (padded with spaces to a multiple
  of 8), tensors stored back to back in state-dict order; dtypes F32, F16, I64.
- `manifest.json` indexes everything:
  - `ops`: list of per-op cases `{{name, op, <params>, files: {{role: path}}, shapes: {{role: shape}}}}`;
    ops are `conv2d` (params kernel, stride, padding, bias; files x, weight, [bias], y),
    `batchnorm` (eps; x, gamma, beta, mean, var, y), `relu` (x, y), `add` (a, b, y),
    `maxpool` (kernel, stride, padding; x, y), `global_avg_pool` (x [N,C,H,W], y [N,C]),
    `linear` (x, weight, bias, y) and `conv_bn` (kernel, stride, padding, eps; x, weight,
    gamma, beta, mean, var, y = bn(conv(x)), conv without bias).
  - `resnet50_div8`: weights files, stage names and per-input stage outputs.
  - `npy`: reader cases with expected dtype/shape/values, or `valid: false` and a reason.
  Paths are relative to this directory.

`resnet50_div8` is torchvision's ResNet-50 v1.5 (Bottleneck, stride on the 3x3 conv) with
every width divided by 8: stem 8, inner widths [8, 16, 32, 64], outputs [32, 64, 128, 256],
fc 256 -> 10. Stage outputs: `stem` (conv1-bn1-relu), `maxpool`, `layer1`..`layer4` (NCHW),
`features` ([N, 256], avgpool + flatten), `logits` ([N, 10]). The `f16weights` outputs use the
weights of `weights_f16.safetensors` (rounded to f16, computed in f32).

## Files

| file | bytes | contents |
|---|---:|---|
"""


def write_readme(w: FixtureWriter) -> None:
    rows = []
    for rel, desc in sorted(w.files + [("README.md", "this file"), ("manifest.json", "index of all cases")]):
        size = os.path.getsize(os.path.join(w.root, rel)) if rel != "README.md" else None
        rows.append(f"| `{rel}` | {size if size is not None else ''} | {desc} |")
    text = README_HEAD.format(torch=torch.__version__, tv=__import__("torchvision").__version__, np=np.__version__)
    w.text("README.md", text + "\n".join(rows) + "\n", "this file")


def main(out_dir: str) -> None:
    setup_torch(2)
    w = FixtureWriter(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    print("op cases")
    ops = make_op_cases(w)
    print("resnet50_div8")
    div8 = make_resnet50_div8(w)
    print("npy cases")
    npy = make_npy_cases(w)

    manifest = OrderedDict([
        ("version", 1),
        ("generator", "scripts/make_fixtures.py"),
        ("torch", torch.__version__),
        ("ops", ops),
        ("resnet50_div8", div8),
        ("npy", npy),
    ])
    with open(w.path("manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    write_readme(w)

    total = 0
    for rel, _ in w.files + [("manifest.json", "")]:
        total += os.path.getsize(os.path.join(out_dir, rel))
    print(f"wrote {len(w.files) + 1} files, {total} bytes, to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
