#!/usr/bin/python3
"""Generate the committed torch.save (.pth) fixtures under test/fixtures/pth/.

    /usr/bin/python3 scripts/make_pth_fixtures.py            # writes test/fixtures/pth/
    /usr/bin/python3 scripts/make_pth_fixtures.py OUTDIR     # writes somewhere else

Valid files are written by torch.save itself (PyTorch 1.13: zip format, and the legacy format with
_use_new_zipfile_serialization=False); a few are re-packed from those with a small zip writer below
(big-endian storages, ZIP64 directory fields, a missing or oversized storage, a deflated entry).
expected.json holds every valid file's tensors as PyTorch made them: dtype, shape and the hex of
their row-major little-endian bytes, so a reader can be checked bit for bit. The hostile files are
made by pickling objects whose __reduce__ names os.system or builtins.eval: saving them runs
nothing, and this script never loads them except through torch.load(weights_only=True), which must
refuse them too. Seeded; a re-run reproduces every byte except in the legacy-format files (their
storage keys are memory addresses) and the TorchScript archive. README.md, written here, lists the files.
"""

from __future__ import annotations

import builtins
import json
import os
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import REPO_ROOT, ResNet50Div8, init_resnet_, randn, rng_for, setup_torch  # noqa: E402

DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "pth")
# What the hostile pickles would run; the tests check that this file never appears.
PWNED_MARKER = "/tmp/resnet50-pth-fixture-pwned"

ST_DTYPE = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


# --------------------------------------------------------------------------------------------
# State dicts
# --------------------------------------------------------------------------------------------

def dtypes_state_dict() -> "OrderedDict[str, torch.Tensor]":
    """One small tensor of every storage type, with values that need exact bits (subnormals, inf, nan)."""
    rng = rng_for(11)
    t = lambda a, dtype: torch.from_numpy(np.asarray(a)).to(dtype)  # noqa: E731
    return OrderedDict([
        ("f32", torch.from_numpy(randn(rng, 2, 3))),
        ("f32_specials", torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4028235e38])),
        ("f16", t([1.0, -2.5, 65504.0, 6e-8, float("inf"), 0.1], torch.float16)),
        ("bf16", t(randn(rng, 2, 2), torch.bfloat16)),
        ("f64", t([1 / 3, -1e-300, 2.0**60 + 1, np.pi], torch.float64)),
        ("i64", torch.tensor([0, -1, 2**40 + 7, -(2**62)], dtype=torch.int64)),
        ("i32", torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 5], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127, 3], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 7], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(2.75)),
        ("empty", torch.zeros(0, 3)),
        ("num_batches_tracked", torch.tensor(1234, dtype=torch.int64)),
    ])


def views_state_dict() -> "OrderedDict[str, torch.Tensor]":
    """Views with storage offsets and strides, and two tensors sharing one storage."""
    rng = rng_for(12)
    base = torch.from_numpy(randn(rng, 4, 6))
    shared = torch.from_numpy(randn(rng, 10))
    nchw = torch.from_numpy(randn(rng, 2, 3, 4, 5))
    half = torch.from_numpy(randn(rng, 3, 5)).half()
    return OrderedDict([
        ("base", base),
        ("sliced", base[1:, ::2]),          # offset 6, strides (6, 2)
        ("transposed", base.t()),           # strides (1, 6)
        ("row", base[2]),                   # offset 12, contiguous
        ("column", base[:, 3]),             # offset 3, stride 6
        ("shared_a", shared[:4]),           # two tensors, one storage
        ("shared_b", shared[4:].view(2, 3)),
        ("nhwc", nchw.permute(0, 2, 3, 1)),  # 4-d permutation
        ("half_transposed", half.t()),      # 2-byte elements, gathered
        ("i64_strided", torch.arange(10, dtype=torch.int64)[1::3]),
    ])


def small_net() -> nn.Module:
    net = nn.Sequential(OrderedDict([("conv1", nn.Conv2d(3, 4, 3, bias=False)), ("bn1", nn.BatchNorm2d(4))]))
    return init_resnet_(net, 13)


def training_checkpoint() -> dict:
    """The layout of PyTorch's ImageNet example: DataParallel weights inside {'state_dict': …}."""
    net = nn.DataParallel(small_net())
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    with torch.enable_grad():
        net.module.train()
        net(torch.from_numpy(randn(rng_for(14), 2, 3, 8, 8))).sum().backward()
        optimizer.step()
        net.module.eval()
    return {"epoch": 7, "arch": "resnet50", "state_dict": net.state_dict(), "best_acc1": torch.tensor(12.5),
            "optimizer": optimizer.state_dict()}


class Reduces:
    """An object that pickles as a call: what a malicious checkpoint contains."""

    def __init__(self, call, *args) -> None:
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


# --------------------------------------------------------------------------------------------
# Zip re-packing (stored entries, 64-byte aligned data and ZIP64 end records, as torch.save writes)
# --------------------------------------------------------------------------------------------

def read_records(path: str) -> "list[tuple[str, bytes]]":
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def write_stored_zip(path: str, records: "list[tuple[str, bytes]]", zip64_fields: bool = False) -> None:
    """A zip like torch.save's; with zip64_fields every size and offset is in a ZIP64 extra field."""
    out, central = bytearray(), bytearray()
    for name, data in records:
        raw_name = name.encode()
        pad = -(len(out) + 30 + len(raw_name) + 4) % 64
        extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # 'FB' padding field, as PyTorch writes
        crc, offset = zlib.crc32(data), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data), len(raw_name), len(extra))
        out += raw_name + extra + data
        if zip64_fields:
            size32 = offset32 = 0xFFFFFFFF
            central_extra = struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), offset)
        else:
            size32, offset32, central_extra = len(data), offset, b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, size32, size32,
                               len(raw_name), len(central_extra), 0, 0, 0, 0, offset32)
        central += raw_name + central_extra
    directory_offset = len(out)
    out += central
    zip64_end = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(records), len(records), len(central), directory_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    if zip64_fields:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(central), directory_offset, 0)
    with open(path, "wb") as f:
        f.write(out)


def byte_swapped_storages(records, state_dict) -> "list[tuple[str, bytes]]":
    """The records of a little-endian torch.save zip, made big-endian: storages swapped per element."""
    # torch.save numbers storages 0, 1, … in the order the pickle first meets them: state-dict order.
    itemsizes: "OrderedDict[int, int]" = OrderedDict()
    for t in state_dict.values():
        itemsizes.setdefault(t.storage().data_ptr(), t.element_size())
    sizes = list(itemsizes.values())
    top = records[0][0].split("/")[0]
    out = []
    for name, data in records:
        if name.startswith(f"{top}/data/"):
            size = sizes[int(name.rsplit("/", 1)[1])]
            data = np.frombuffer(data, dtype=f"<u{size}").byteswap().tobytes() if size > 1 else data
        out.append((name, data))
    return out + [(f"{top}/byteorder", b"big")]


# --------------------------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------------------------

def tensor_record(t: torch.Tensor) -> dict:
    raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    return OrderedDict([("dtype", ST_DTYPE[t.dtype]), ("shape", list(t.shape)), ("hex", raw.hex())])


def same_tensors(a, b) -> bool:
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and tensor_record(a[k]) == tensor_record(b[k]) for k in a)


class Fixtures:
    def __init__(self, root: str) -> None:
        self.root = root
        self.files: "list[tuple[str, str]]" = []
        self.expected: "OrderedDict[str, dict]" = OrderedDict()
        os.makedirs(root, exist_ok=True)

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def valid(self, name: str, desc: str, state_dict, in_expected: bool = True) -> None:
        """Record a valid file: torch.load must read back exactly the state dict (its tensors go to expected.json)."""
        loaded = torch.load(self.path(name))
        got = loaded
        for key in ("state_dict", "model"):
            if isinstance(got, dict) and key in got and isinstance(got[key], dict):
                got = got[key]
        assert same_tensors(got, state_dict), f"{name}: torch.load does not read back what was saved"
        if in_expected:
            self.expected[name] = OrderedDict((k, tensor_record(v)) for k, v in state_dict.items())
        self.files.append((name, desc))

    def refused(self, name: str, desc: str, by_torch: bool = True) -> None:
        """Record a file that must be refused; with by_torch, torch.load(weights_only=True) must refuse it too."""
        if by_torch:
            try:
                torch.load(self.path(name), weights_only=True)
            except Exception:  # noqa: BLE001 (any refusal will do)
                pass
            else:
                raise AssertionError(f"{name}: torch.load(weights_only=True) accepted it")
        assert not os.path.exists(PWNED_MARKER), "a hostile pickle ran"
        self.files.append((name, desc))


def main(out_dir: str) -> None:
    setup_torch(1)
    if os.path.exists(PWNED_MARKER):
        os.remove(PWNED_MARKER)
    fx = Fixtures(out_dir)
    p = fx.path
    dtypes, views = dtypes_state_dict(), views_state_dict()

    torch.save(dtypes, p("dtypes.pth"))
    fx.valid("dtypes.pth", "one tensor per storage type: F32 (with inf/nan/subnormal), F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, 0-d, empty", dtypes)
    torch.save(views, p("views.pth"))
    fx.valid("views.pth", "views: offsets, strides, transposes, a 4-d permutation, two tensors sharing a storage", views)
    torch.save(dtypes, p("dtypes_protocol4.pth"), pickle_protocol=4)
    fx.valid("dtypes_protocol4.pth", "dtypes.pth pickled with protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE, SHORT_BINUNICODE)", dtypes)
    torch.save(dtypes, p("dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
    fx.valid("dtypes_legacy.pth", "dtypes.pth in the legacy (pre-1.6) format", dtypes)
    torch.save(views, p("views_legacy.pth"), _use_new_zipfile_serialization=False)
    fx.valid("views_legacy.pth", "views.pth in the legacy format (unaligned storages)", views)

    checkpoint = training_checkpoint()
    torch.save(checkpoint, p("checkpoint_dataparallel.pth"))
    fx.valid("checkpoint_dataparallel.pth", "{'epoch', 'arch', 'state_dict': DataParallel `module.` keys, 'best_acc1', 'optimizer'}", checkpoint["state_dict"])
    net_sd = small_net().state_dict()
    torch.save({"model": net_sd, "epoch": 3}, p("checkpoint_model_key.pth"))
    fx.valid("checkpoint_model_key.pth", "{'model': state dict, 'epoch': 3}", net_sd)

    write_stored_zip(p("views_big_endian.pth"), byte_swapped_storages(read_records(p("views.pth")), views))
    fx.expected["views_big_endian.pth"] = fx.expected["views.pth"]
    fx.files.append(("views_big_endian.pth", "views.pth re-packed with byteorder 'big' and byte-swapped storages (PyTorch 1.13 cannot check it)"))
    write_stored_zip(p("dtypes_zip64.pth"), read_records(p("dtypes.pth")), zip64_fields=True)
    fx.valid("dtypes_zip64.pth", "dtypes.pth re-packed with every size and offset in ZIP64 extra fields", dtypes)

    model = init_resnet_(ResNet50Div8(num_classes=10), 0)  # the model of resnet50_div8/weights.safetensors
    torch.save(model.state_dict(), p("resnet50_div8.pth"))
    fx.valid("resnet50_div8.pth", "the resnet50_div8 model's state_dict() (its tensors: resnet50_div8/weights.safetensors)",
             model.state_dict(), in_expected=False)

    # Hostile and broken files.
    evil = {"weight": torch.ones(2), "payload": Reduces(os.system, f"touch {PWNED_MARKER}")}
    torch.save(evil, p("hostile_os_system.pth"))
    fx.refused("hostile_os_system.pth", f"a pickle that calls os.system('touch {PWNED_MARKER}') (GLOBAL posix.system)")
    torch.save(evil, p("hostile_os_system_protocol4.pth"), pickle_protocol=4)
    fx.refused("hostile_os_system_protocol4.pth", "the same through STACK_GLOBAL (protocol 4)", by_torch=True)
    torch.save({"payload": Reduces(builtins.eval, f"__import__('os').system('touch {PWNED_MARKER}')")}, p("hostile_eval.pth"))
    fx.refused("hostile_eval.pth", "a pickle that calls builtins.eval")
    torch.save({"payload": Reduces(os.system, f"touch {PWNED_MARKER}")}, p("hostile_legacy.pth"), _use_new_zipfile_serialization=False)
    fx.refused("hostile_legacy.pth", "os.system in a legacy-format file")
    torch.save(small_net(), p("whole_model.pth"))
    fx.refused("whole_model.pth", "torch.save(model) of a whole nn.Module (globals torch.nn.modules.…)")
    torch.save({"w": np.ones(3, dtype=np.float32)}, p("numpy_array.pth"))
    fx.refused("numpy_array.pth", "a NumPy array in the dict (global numpy.core.multiarray._reconstruct)")
    torch.jit.script(nn.Conv2d(1, 1, 1)).save(p("torchscript.pt"))
    fx.refused("torchscript.pt", "a TorchScript archive from torch.jit.save (global __torch__.…)", by_torch=False)
    torch.save({"w": torch.arange(3.0).expand(4, 3)}, p("expanded_view.pth"))
    fx.refused("expanded_view.pth", "an expanded (stride-0) view, more elements than its storage: not supported", by_torch=False)

    records = read_records(p("dtypes.pth"))
    write_stored_zip(p("missing_storage.pth"), [r for r in records if not r[0].endswith("/data/3")])
    fx.refused("missing_storage.pth", "dtypes.pth without its record data/3")
    write_stored_zip(p("storage_size_mismatch.pth"), [(n, d + b"\0\0\0\0" if n.endswith("/data/0") else d) for n, d in records])
    fx.refused("storage_size_mismatch.pth", "dtypes.pth with record data/0 4 bytes longer than its storage", by_torch=False)
    with zipfile.ZipFile(p("deflated.pth"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in records:
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    fx.refused("deflated.pth", "dtypes.pth re-zipped with deflate (torch.load reads it; torch.save never writes it)", by_torch=False)

    with open(p("expected.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(OrderedDict([("pwned_marker", PWNED_MARKER), ("files", fx.expected)]), f, indent=1)
        f.write("\n")
    fx.files.append(("expected.json", "{files: {name: {tensor: {dtype, shape, hex}}}}: each valid file's tensors, row-major little-endian bytes"))
    write_readme(fx)
    print(f"{len(fx.files)} files -> {out_dir}")


def write_readme(fx: Fixtures) -> None:
    rows = "\n".join(f"| `{name}` | {os.path.getsize(fx.path(name))} | {desc} |" for name, desc in fx.files)
    text = f"""# torch.save fixtures

Generated by `scripts/make_pth_fixtures.py` with PyTorch {torch.__version__}, seeded: a re-run reproduces
every byte except in the legacy files (their storage keys are memory addresses) and the TorchScript
archive. Do not edit by hand: run `/usr/bin/python3 scripts/make_pth_fixtures.py`.

Valid files come first; `expected.json` holds their tensors (for a checkpoint, its state dict) as
PyTorch made them. The rest must be refused with a clear error: the hostile pickles would run
`touch {PWNED_MARKER}` if loaded by Python's pickle, and torch.load(weights_only=True) refuses them
as well.

| file | bytes | contents |
|---|---:|---|
{rows}
| `README.md` | | this file |
"""
    with open(fx.path("README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit("usage: make_pth_fixtures.py [OUTDIR]")
    main(sys.argv[1] if len(sys.argv) == 2 else DEFAULT_OUT)
