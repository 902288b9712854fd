#!/usr/bin/python3
"""Generate the committed image-preprocessing fixtures under test/fixtures/images/.

Run with the Debian interpreter (python3-pil 9.4, python3-opencv 4.6, torch 1.13 / torchvision 0.14;
`apt-get install -y python3-opencv` if cv2 is missing):

    /usr/bin/python3 scripts/make_image_fixtures.py            # writes test/fixtures/images/
    /usr/bin/python3 scripts/make_image_fixtures.py OUTDIR     # writes somewhere else

It draws 13 synthetic, photo-like images (smooth gradients, a hard-edged disc and bar, a chirp
band that aliases when resized carelessly, mild noise), saves them as JPEG and PNG in the modes a
decoder must handle (one JPEG embeds a linear-gamma ICC profile, one an EXIF orientation), and runs
each through the two reference pipelines:

  torchvision  PIL Image.open → convert("RGB") → Resize(256) → CenterCrop(224) → ToTensor → Normalize
  msvision     cv2.imread(IMREAD_COLOR) → cv2.resize((256, 256)) → [16:240, 16:240] → ToTensor → Normalize

Every stage is saved: decoded and resized pixels as 8-bit RGB PNGs (lossless; OpenCV's BGR is
reversed so both pipelines share one layout; identical arrays are stored once) and the crop
offsets. The final float32 [3, 224, 224] tensors (RGB order for torchvision, BGR for msvision) are
a per-channel map of the cropped pixels (ToTensor + Normalize by channel index, the same map in
both pipelines), so that map is stored once as normalize_lut.npy [3, 256] and the script asserts,
for every image, that the reference tensor equals lut[c][cropped pixels] bit for bit; two tensors
are also stored whole (gzipped .npy). Eight 5x3 PNGs tagged with EXIF orientations 1-8 come with
what PIL and OpenCV decode from them. manifest.json indexes it all; a re-run reproduces every byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import struct
import sys

import cv2
import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "images")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
EXIF_ORIENTATION = 0x0112


def photo(w: int, h: int, seed: int) -> np.ndarray:
    """A [h, w, 3] uint8 image with the structure of a photo: gradients, edges, texture, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = x / w, y / h
    chans = []
    for c in range(3):
        a, b, phase = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5), rng.uniform(0, 2 * np.pi)
        chans.append(128 + 80 * np.sin(2 * np.pi * (a * u + b * v) + phase) + 30 * (u - v))
    img = np.stack(chans, -1)
    # A hard-edged disc and a dark bar: edges that ring or blur differently under each filter.
    disc = (x - 0.3 * w) ** 2 + (y - 0.35 * h) ** 2 < (0.18 * min(w, h)) ** 2
    img[disc] = rng.uniform(20, 235, 3)
    img[(u > 0.6) & (u < 0.68) & (v > 0.15)] = rng.uniform(0, 40, 3)
    # A chirp band: stripes whose frequency rises to the Nyquist limit across the image.
    band = (v > 0.72) & (v < 0.86)
    img[band] = (128 + 100 * np.sin(np.pi * u * u * w / 2))[band][:, None]
    img += rng.normal(0, 3, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def grey(img: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(img).convert("L"))


def save_jpeg(path: str, w: int, h: int, seed: int, **kw) -> None:
    Image.fromarray(photo(w, h, seed)).save(path, quality=90, **kw)


def linear_rgb_icc() -> bytes:
    """A minimal ICC v2 RGB display profile with gamma 1.0 (linear) curves and sRGB's D50 primaries.

    Colour-managing a file that embeds it would brighten every dark pixel; PIL and OpenCV ignore it.
    """
    def tag(sig: bytes, body: bytes) -> tuple[bytes, bytes]:
        return sig, body + b"\0" * (-len(body) % 4)

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))

    text = b"linear test profile\0"
    tags = [
        tag(b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67),
        tag(b"cprt", b"text\0\0\0\0" + b"none\0"),
        tag(b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        tag(b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        tag(b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        tag(b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
    ] + [tag(sig, b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0100)) for sig in (b"rTRC", b"gTRC", b"bTRC")]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"\0" * 4, 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I3i", 0, 63190, 65536, 54061)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + data


def save_exif6_jpeg(path: str, w: int, h: int, seed: int) -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(photo(w, h, seed)).save(path, quality=90, exif=exif.tobytes())


def save_oriented_png(path: str, orientation: int) -> None:
    """A 5x3 image of distinct pixels tagged with one EXIF orientation."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    img = (np.arange(5 * 3 * 3).reshape(3, 5, 3) * 5).astype(np.uint8)
    Image.fromarray(img).save(path, exif=exif.tobytes())


def save_grey_jpeg(path: str, w: int, h: int, seed: int) -> None:
    Image.fromarray(grey(photo(w, h, seed))).save(path, quality=90)


def save_png(path: str, w: int, h: int, seed: int, mode: str) -> None:
    img = photo(w, h, seed)
    if mode == "RGB":
        Image.fromarray(img).save(path)
    elif mode == "RGBA":  # alpha from 0 to 255; RGB under alpha 0 is kept, not blacked out
        alpha = np.linspace(0, 255, w * h).reshape(h, w).round().astype(np.uint8)
        Image.fromarray(np.dstack([img, alpha]), "RGBA").save(path)
    elif mode == "L":
        Image.fromarray(grey(img)).save(path)
    elif mode == "1":
        Image.fromarray(grey(img) > 128).save(path)
    elif mode == "LA":
        alpha = np.linspace(255, 0, w * h).reshape(h, w).round().astype(np.uint8)
        Image.fromarray(np.dstack([grey(img), alpha]), "LA").save(path)
    elif mode == "P":  # 64-colour palette, index 0 marked transparent (tRNS)
        Image.fromarray(img).quantize(64, method=Image.Quantize.MEDIANCUT).save(path, transparency=0)
    elif mode == "I;16":  # left half spans the full 16-bit range, right half stays below 600
        g = grey(img).astype(np.float64)
        g16 = np.where(np.arange(w) < w // 2, g * 257, g * 600 / 255)
        assert cv2.imwrite(path, np.rint(g16).astype(np.uint16))
    elif mode == "RGB;16":
        rng = np.random.default_rng(seed + 1)
        rgb16 = img.astype(np.uint16) * 257 + rng.integers(0, 257, img.shape, dtype=np.uint16)
        assert cv2.imwrite(path, rgb16[..., ::-1])
    else:
        raise ValueError(mode)


# (file, width, height, what the stored file holds, writer)
IMAGES = [
    ("rgb_q90_400x300.jpg", 400, 300, "baseline JPEG q90, 4:2:0, embedded linear-gamma ICC profile",
     lambda p, w, h: save_jpeg(p, w, h, 1, icc_profile=linear_rgb_icc())),
    ("rgb_progressive_300x450.jpg", 300, 450, "progressive JPEG q90, 4:2:0, portrait",
     lambda p, w, h: save_jpeg(p, w, h, 2, progressive=True)),
    ("rgb_exif6_320x240.jpg", 320, 240, "JPEG q90 with EXIF Orientation 6 (displays as 240x320)",
     lambda p, w, h: save_exif6_jpeg(p, w, h, 3)),
    ("grey_q90_250x300.jpg", 250, 300, "greyscale JPEG q90",
     lambda p, w, h: save_grey_jpeg(p, w, h, 4)),
    ("rgb444_q90_512x512.jpg", 512, 512, "JPEG q90, 4:4:4, a 2x downscale",
     lambda p, w, h: save_jpeg(p, w, h, 5, subsampling=0)),
    ("rgb_301x199.png", 301, 199, "PNG RGB, odd size", lambda p, w, h: save_png(p, w, h, 6, "RGB")),
    ("rgba_40x33.png", 40, 33, "PNG RGBA, tiny", lambda p, w, h: save_png(p, w, h, 7, "RGBA")),
    ("grey_280x260.png", 280, 260, "PNG greyscale (L)", lambda p, w, h: save_png(p, w, h, 8, "L")),
    ("bilevel_97x61.png", 97, 61, "PNG 1-bit greyscale (mode 1)", lambda p, w, h: save_png(p, w, h, 13, "1")),
    ("grey_alpha_64x80.png", 64, 80, "PNG greyscale + alpha (LA)",
     lambda p, w, h: save_png(p, w, h, 9, "LA")),
    ("palette_260x300.png", 260, 300, "PNG palette (P), 64 colours, tRNS",
     lambda p, w, h: save_png(p, w, h, 10, "P")),
    ("grey16_270x257.png", 270, 257, "PNG 16-bit greyscale",
     lambda p, w, h: save_png(p, w, h, 11, "I;16")),
    ("rgb16_90x70.png", 90, 70, "PNG 16-bit RGB", lambda p, w, h: save_png(p, w, h, 12, "RGB;16")),
]


class Store:
    """Writes each distinct uint8 RGB array once, as a PNG; returns its file name."""

    def __init__(self, out: str) -> None:
        self.out, self.seen = out, {}

    def png(self, name: str, rgb: np.ndarray) -> str:
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
        rgb = np.ascontiguousarray(rgb)
        digest = hashlib.sha256(rgb.tobytes() + str(rgb.shape).encode()).hexdigest()
        if digest not in self.seen:
            Image.fromarray(rgb).save(os.path.join(self.out, name + ".png"), compress_level=9)
            self.seen[digest] = name + ".png"
        return self.seen[digest]


def save_npy_gz(path: str, t: torch.Tensor) -> None:
    buf = io.BytesIO()
    np.save(buf, t.numpy().astype("<f4"))
    with open(path, "wb") as f:
        f.write(gzip.compress(buf.getvalue(), compresslevel=9, mtime=0))


to_tensor = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
# The level → float map of ToTensor + Normalize, per channel index: a [1, 256, 3] ramp through it.
LUT = to_tensor(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2))[:, 0, :]


def check_against_lut(tensor: torch.Tensor, cropped: np.ndarray) -> None:
    """The tensor is lut[c][pixel] exactly, so storing the pixels and the LUT stores the tensor."""
    rebuilt = torch.stack([LUT[c][torch.from_numpy(cropped[..., c].astype(np.int64))] for c in range(3)])
    assert torch.equal(rebuilt, tensor), "tensor differs from lut[c][cropped pixels]"


def torchvision_stages(path: str, stem: str, store: Store) -> tuple[dict, torch.Tensor]:
    im = Image.open(path)
    mode = im.mode
    rgb = im.convert("RGB")
    resized = T.Resize(256)(rgb)
    cropped = T.CenterCrop(224)(resized)
    tensor = to_tensor(cropped)
    r, c = np.asarray(resized), np.asarray(cropped)
    top, left = int(round((r.shape[0] - 224) / 2.0)), int(round((r.shape[1] - 224) / 2.0))
    assert np.array_equal(r[top:top + 224, left:left + 224], c), "CenterCrop offsets"
    check_against_lut(tensor, c)
    return {
        "pil_mode": mode,
        "decoded": store.png(stem + ".pil.decoded", np.asarray(rgb)),
        "resized": store.png(stem + ".pil.resized", r),
        "crop": [top, left],
    }, tensor


def msvision_stages(path: str, stem: str, store: Store) -> tuple[dict, torch.Tensor]:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    resized = cv2.resize(bgr, (256, 256))
    cropped = resized[16:240, 16:240]
    tensor = to_tensor(cropped)  # BGR channel order, normalised by channel index, as the model card does
    check_against_lut(tensor, cropped)
    return {
        "decoded": store.png(stem + ".cv.decoded", bgr[..., ::-1]),
        "resized": store.png(stem + ".cv.resized", resized[..., ::-1]),
        "crop": [16, 16],
    }, tensor


# The reference tensors stored whole, beside the LUT check: (image file, preset).
WHOLE_TENSORS = {("rgb_301x199.png", "torchvision"), ("rgb_q90_400x300.jpg", "msvision")}


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    store = Store(out)
    images = []
    for name, w, h, what, write in IMAGES:
        path = os.path.join(out, name)
        write(path, w, h)
        stem = os.path.splitext(name)[0]
        entry = {"file": name, "what": what, "width": w, "height": h}
        for preset, stages in (("torchvision", torchvision_stages), ("msvision", msvision_stages)):
            entry[preset], tensor = stages(path, stem, store)
            if (name, preset) in WHOLE_TENSORS:
                entry[preset]["tensor"] = f"{stem}.{preset}.npy.gz"
                save_npy_gz(os.path.join(out, entry[preset]["tensor"]), tensor)
        images.append(entry)
    orientations = []
    for o in range(1, 9):
        name = f"orientation_{o}.png"
        save_oriented_png(os.path.join(out, name), o)
        orientations.append({
            "file": name, "orientation": o,
            "pil": store.png(f"orientation_{o}.pil", np.asarray(Image.open(os.path.join(out, name)).convert("RGB"))),
            "cv": store.png(f"orientation_{o}.cv", cv2.imread(os.path.join(out, name), cv2.IMREAD_COLOR)[..., ::-1]),
        })
    np.save(os.path.join(out, "normalize_lut.npy"), LUT.numpy().astype("<f4"))
    manifest = {
        "versions": {"PIL": PIL.__version__, "cv2": cv2.__version__, "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": np.__version__},
        "mean": MEAN, "std": STD, "normalize_lut": "normalize_lut.npy", "images": images,
        "orientations": orientations,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
