#!/usr/bin/python3
"""Tiny copies of the seed's seven benchmarks, in their distributed formats, under
test/fixtures/datasets/ (one folder per dataset, laid out as torchvision's dataset classes expect
their root), and expected.json: what numpy / scipy / PIL read from them.

    /usr/bin/python3 scripts/make_dataset_fixtures.py          # needs numpy, scipy (python3-scipy), PIL

Seeded; a re-run reproduces every file but the creation date scipy writes into each .mat header.
The pictures are smooth colour gradients with noise (so
they compress and differ by class). Formats:

  cifar-10-batches-py/   data_batch_1..5, test_batch, batches.meta: protocol-2 pickles as Python 2's
                         cPickle wrote them (every str a SHORT_BINSTRING/BINSTRING, no unicode, numpy
                         arrays as numpy.core.multiarray._reconstruct + BUILD with the raw bytes)
  cifar-100-python/      train, test, meta: protocol-2 pickles as Python 3 writes them (bytes through
                         _codecs.encode(str, 'latin1'), keys as bytes), fine and coarse labels
  cifar-10-batches-bin/  data_batch_1..5.bin, test_batch.bin, batches.meta.txt (1 label + 3072 bytes)
  cifar-100-binary/      train.bin, test.bin (coarse, fine + 3072 bytes), fine_label_names.txt
  stl10_binary/          train_X.bin, train_y.bin, test_X.bin, test_y.bin, class_names.txt
  svhn/                  train_32x32.mat (scipy.io.savemat, zlib-compressed), test_32x32.mat (not compressed)
  CUB_200_2011/          images.txt, image_class_labels.txt, train_test_split.txt, classes.txt, images/
  flowers-102/           jpg/image_NNNNN.jpg, imagelabels.mat (uncompressed), setid.mat (compressed)
  imagenet/              train/<wnid>/*.JPEG, val/<wnid>/*.JPEG
  bad/                   files the readers must refuse: SVHN with 3 images and 2 labels, a MAT v4 file

expected.json, per dataset and split: n, the label list, and the SHA-256 of the pixels as
uint8 [N, H, W, 3] (RGB, row-major) for the array formats, or the image paths for the file formats.
Every training split has 3 classes with at least 3 images each, so the probe's validation split works.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import struct

import numpy as np
import scipy.io
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "fixtures", "datasets")
rng = np.random.default_rng(15)


def pictures(labels, size):
    """uint8 [N, size, size, 3]: a gradient whose direction and colour depend on the label."""
    n = len(labels)
    out = np.empty((n, size, size, 3), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    for i, c in enumerate(labels):
        base = [(xx, yy, 1 - xx), (yy, 1 - yy, xx), (1 - xx * yy, xx, yy)][int(c) % 3]
        img = np.stack(base, -1) * 200 + rng.integers(0, 40, (size, size, 3))
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, np.uint8).tobytes()).hexdigest()


class Py2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote at protocol 2: str and bytes as (SHORT_)BINSTRING."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def write_py2_pickle(path, obj):
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)


def write_py3_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def read_pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def chw_rows(px):
    """[N, H, W, 3] → CIFAR's [N, 3072] rows (R plane, G plane, B plane)."""
    return px.transpose(0, 3, 1, 2).reshape(len(px), -1)


def cifar10(expected):
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    batches = [[0, 1, 5], [5, 0, 1], [1, 5, 0], [0, 5, 1], [1, 0, 5]]
    test_labels = [5, 0, 1, 1, 5, 0]
    py = os.path.join(ROOT, "cifar-10-batches-py")
    bn = os.path.join(ROOT, "cifar-10-batches-bin")
    os.makedirs(py)
    os.makedirs(bn)
    splits = {"train": ([], []), "test": ([], [])}
    for i, labels in enumerate(batches + [test_labels]):
        name = f"data_batch_{i + 1}" if i < 5 else "test_batch"
        px = pictures(labels, 32)
        rows = chw_rows(px)
        write_py2_pickle(os.path.join(py, name), {
            b"batch_label": f"training batch {i + 1} of 5".encode(),
            b"labels": list(labels),
            b"data": rows,
            b"filenames": [f"img_{i}_{j}.png".encode() for j in range(len(labels))],
        })
        back = read_pickle(os.path.join(py, name))
        assert np.array_equal(back[b"data"], rows) and back[b"labels"] == labels
        with open(os.path.join(bn, name + ".bin"), "wb") as f:
            for j, c in enumerate(labels):
                f.write(bytes([c]) + rows[j].tobytes())
        part = splits["test" if i == 5 else "train"]
        part[0].append(back[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        part[1].extend(back[b"labels"])
    write_py2_pickle(os.path.join(py, "batches.meta"), {b"label_names": [n.encode() for n in names], b"num_cases_per_batch": 3, b"num_vis": 3072})
    with open(os.path.join(bn, "batches.meta.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    expected["cifar10"] = {
        "classes": names,
        **{s: {"n": len(l), "labels": l, "pixels_sha256": sha(np.concatenate(p))} for s, (p, l) in splits.items()},
    }


def cifar100(expected):
    fine_names = [f"fine_{i:02d}" for i in range(100)]
    coarse_names = [f"coarse_{i:02d}" for i in range(20)]
    fine = {"train": [3, 41, 97, 41, 3, 97, 97, 3, 41], "test": [41, 3, 97]}
    py = os.path.join(ROOT, "cifar-100-python")
    bn = os.path.join(ROOT, "cifar-100-binary")
    os.makedirs(py)
    os.makedirs(bn)
    expected["cifar100"] = {"classes": fine_names}
    for split, labels in fine.items():
        coarse = [c // 5 for c in labels]
        px = pictures(labels, 32)
        rows = chw_rows(px)
        write_py3_pickle(os.path.join(py, split), {
            b"filenames": [f"{split}_{j}.png".encode() for j in range(len(labels))],
            b"batch_label": f"{split} batch".encode(),
            b"fine_labels": labels,
            b"coarse_labels": coarse,
            b"data": rows,
        })
        back = read_pickle(os.path.join(py, split))
        assert np.array_equal(back[b"data"], rows)
        with open(os.path.join(bn, split + ".bin"), "wb") as f:
            for j in range(len(labels)):
                f.write(bytes([coarse[j], labels[j]]) + rows[j].tobytes())
        expected["cifar100"][split] = {"n": len(labels), "labels": back[b"fine_labels"], "coarse_labels": back[b"coarse_labels"],
                                       "pixels_sha256": sha(back[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))}
    write_py3_pickle(os.path.join(py, "meta"), {b"fine_label_names": [n.encode() for n in fine_names], b"coarse_label_names": [n.encode() for n in coarse_names]})
    with open(os.path.join(bn, "fine_label_names.txt"), "w") as f:
        f.write("\n".join(fine_names) + "\n")
    with open(os.path.join(bn, "coarse_label_names.txt"), "w") as f:
        f.write("\n".join(coarse_names) + "\n")


def stl10(expected):
    names = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
    d = os.path.join(ROOT, "stl10_binary")
    os.makedirs(d)
    expected["stl10"] = {"classes": names}
    for split, labels in {"train": [0, 4, 4, 0, 0, 4], "test": [4, 0]}.items():
        px = pictures(labels, 96)
        # stored column-major per plane: [N, 3, W, H]
        with open(os.path.join(d, f"{split}_X.bin"), "wb") as f:
            f.write(px.transpose(0, 3, 2, 1).tobytes())
        with open(os.path.join(d, f"{split}_y.bin"), "wb") as f:
            f.write(bytes(c + 1 for c in labels))
        # as torchvision's STL10 reads them
        raw = np.fromfile(os.path.join(d, f"{split}_X.bin"), np.uint8).reshape(-1, 3, 96, 96)
        chw = np.transpose(raw, (0, 1, 3, 2))
        y = np.fromfile(os.path.join(d, f"{split}_y.bin"), np.uint8).astype(np.int64) - 1
        expected["stl10"][split] = {"n": len(y), "labels": y.tolist(), "pixels_sha256": sha(chw.transpose(0, 2, 3, 1))}
    with open(os.path.join(d, "class_names.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


def svhn(expected):
    d = os.path.join(ROOT, "svhn")
    os.makedirs(d)
    expected["svhn"] = {"classes": [str(i) for i in range(10)]}
    for split, digits, compress in [("train", [0, 7, 3, 3, 0, 7, 7, 3, 0], True), ("test", [7, 0, 3], False)]:
        px = pictures(digits, 32)
        y = np.array([[10 if c == 0 else c] for c in digits], np.float64)  # SVHN stores digit 0 as 10
        path = os.path.join(d, f"{split}_32x32.mat")
        scipy.io.savemat(path, {"X": px.transpose(1, 2, 3, 0), "y": y}, do_compression=compress, format="5")
        m = scipy.io.loadmat(path)
        labels = m["y"].astype(np.int64).squeeze(1)
        labels[labels == 10] = 0  # torchvision's SVHN
        expected["svhn"][split] = {"n": len(labels), "labels": labels.tolist(), "compressed": compress,
                                   "pixels_sha256": sha(np.transpose(m["X"], (3, 0, 1, 2)))}


def save_jpeg(path, px):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(px).save(path, quality=85)


def cub200(expected):
    d = os.path.join(ROOT, "CUB_200_2011")
    classes = [f"{i:03d}.Bird_{i:03d}" for i in range(1, 201)]
    used = [2, 17, 200]  # 1-based class ids
    lines, labels, split = [], [], []
    n = 0
    for c in used:
        for j in range(4):
            n += 1
            rel = f"{classes[c - 1]}/Bird_{c:03d}_{j:04d}.jpg"
            save_jpeg(os.path.join(d, "images", rel), pictures([c], 24)[0])
            lines.append(f"{n} {rel}")
            labels.append(f"{n} {c}")
            split.append(f"{n} {0 if j == 3 else 1}")
    for name, content in [("images.txt", lines), ("image_class_labels.txt", labels), ("train_test_split.txt", split),
                          ("classes.txt", [f"{i + 1} {c}" for i, c in enumerate(classes)])]:
        with open(os.path.join(d, name), "w") as f:
            f.write("\n".join(content) + "\n")
    rows = [(l.split()[1], int(c.split()[1]) - 1, int(s.split()[1])) for l, c, s in zip(lines, labels, split)]
    expected["cub200"] = {"classes": classes, **{
        name: {"n": len(sel), "labels": [r[1] for r in sel], "images": [f"images/{r[0]}" for r in sel]}
        for name, sel in [("train", [r for r in rows if r[2] == 1]), ("test", [r for r in rows if r[2] == 0])]}}


def flowers102(expected):
    d = os.path.join(ROOT, "flowers-102")
    labels = [5, 60, 102] * 6  # 1-based, image i has labels[i-1]
    for i, c in enumerate(labels):
        save_jpeg(os.path.join(d, "jpg", f"image_{i + 1:05d}.jpg"), pictures([c], 24)[0])
    scipy.io.savemat(os.path.join(d, "imagelabels.mat"), {"labels": np.array([labels], np.uint8)}, do_compression=False)
    ids = np.arange(1, len(labels) + 1)
    sets = {"trnid": ids[0:6], "valid": ids[6:12], "tstid": ids[12:18]}
    scipy.io.savemat(os.path.join(d, "setid.mat"), {k: np.array([v], np.uint16) for k, v in sets.items()}, do_compression=True)
    lab = scipy.io.loadmat(os.path.join(d, "imagelabels.mat"))["labels"][0].astype(np.int64) - 1
    s = scipy.io.loadmat(os.path.join(d, "setid.mat"))
    expected["flowers102"] = {"classes": [str(i) for i in range(1, 103)]}
    for split, key in [("train", "trnid"), ("val", "valid"), ("test", "tstid")]:
        ix = s[key][0].astype(np.int64)
        expected["flowers102"][split] = {"n": len(ix), "labels": lab[ix - 1].tolist(), "images": [f"jpg/image_{i:05d}.jpg" for i in ix]}


def imagenet(expected):
    d = os.path.join(ROOT, "imagenet")
    wnids = ["n01440764", "n01443537", "n01484850"]
    expected["imagenet"] = {"classes": wnids}
    for split, per in [("train", 3), ("val", 1)]:
        images, labels = [], []
        for c, w in enumerate(wnids):
            for j in range(per):
                rel = f"{split}/{w}/{w}_{j}.JPEG"
                save_jpeg(os.path.join(d, rel), pictures([c], 24)[0])
                images.append(rel)
                labels.append(c)
        expected["imagenet"]["train" if split == "train" else "test"] = {"n": len(images), "labels": labels, "images": images}


def bad_files():
    """bad/: files that must be refused: SVHN with 3 images but 2 labels, a MAT v4 file."""
    d = os.path.join(ROOT, "bad")
    os.makedirs(d)
    px = pictures([1, 2, 3], 32)
    scipy.io.savemat(os.path.join(d, "svhn_mismatch.mat"), {"X": px.transpose(1, 2, 3, 0), "y": np.array([[1], [2]], np.float64)})
    scipy.io.savemat(os.path.join(d, "mat_v4.mat"), {"y": np.array([[1.0]])}, format="4")


def main():
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    expected = {}
    for make in (cifar10, cifar100, stl10, svhn, cub200, flowers102, imagenet):
        make(expected)
    bad_files()
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
