#!/usr/bin/python3
"""Generate the committed fixtures of the clip and bit presets under test/fixtures/presets/.

Run with the Debian interpreter (python3-pil 9.4, torch 1.13 / torchvision 0.14):

    /usr/bin/python3 scripts/make_preset_fixtures.py            # writes test/fixtures/presets/
    /usr/bin/python3 scripts/make_preset_fixtures.py OUTDIR     # writes somewhere else

Inputs are five of the decoded images of test/fixtures/images (scripts/make_image_fixtures.py),
chosen for the resize they get: upscaled several times (40x33, 97x61 with hard black/white edges, so
bicubic's overshoot is clipped), barely changed (270x257), downscaled 2.3x (512x512), landscape with
an odd long side (301x199). Each goes through the two reference pipelines:

  clip  Resize(224, BICUBIC) -> CenterCrop(224) -> ToTensor -> Normalize(CLIP's mean, std)
        (CLIP's own _transform, with the RGB conversion done before, as decoding does here)
  bit   Resize(256, BILINEAR) -> CenterCrop(224) -> ToTensor -> Normalize(0.5, 0.5)

and the script records, per image and preset: the resized size, the SHA-256 of the resized 8-bit
RGB pixels (PIL's Image.resize, the bytes a test must reproduce exactly; the image itself is
stored for the 97x61 one, <image>.<preset>.resized.png, so a mismatch can be looked at) and the
crop offsets. The final tensors are a per-channel map of the cropped pixels, stored once per preset
as <preset>.lut.npy [3, 256] (ToTensor + Normalize of level v in channel c, by PyTorch); the script
asserts that each reference tensor equals lut[c][cropped pixels] bit for bit. manifest.json indexes it
all; a re-run reproduces every byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO_ROOT, "test", "fixtures", "images")
DEFAULT_OUT = os.path.join(REPO_ROOT, "test", "fixtures", "presets")

PRESETS = {
    "clip": dict(size=224, interpolation=T.InterpolationMode.BICUBIC, resample=Image.BICUBIC,
                 mean=[0.48145466, 0.4578275, 0.40821073], std=[0.26862954, 0.26130258, 0.27577711]),
    "bit": dict(size=256, interpolation=T.InterpolationMode.BILINEAR, resample=Image.BILINEAR,
                mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5]),
}
INPUTS = ["rgba_40x33", "bilevel_97x61", "grey16_270x257", "rgb444_q90_512x512", "rgb_301x199"]
STORED = {"bilevel_97x61"}


def lut(mean: list[float], std: list[float]) -> np.ndarray:
    levels = torch.arange(256, dtype=torch.uint8).reshape(1, 256, 1).expand(1, 256, 3).numpy().copy()
    t = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(Image.fromarray(levels))
    return t[:, 0, :].numpy().astype(np.float32)  # [3, 256]


def save_npy(path: str, a: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, a, allow_pickle=False)


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    manifest = {
        "made_by": "scripts/make_preset_fixtures.py",
        "versions": {"PIL": PIL.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
        "presets": {}, "images": [],
    }
    luts = {}
    for name, p in PRESETS.items():
        luts[name] = lut(p["mean"], p["std"])
        save_npy(os.path.join(out, f"{name}.lut.npy"), luts[name])
        manifest["presets"][name] = {"lut": f"{name}.lut.npy", "size": p["size"], "mean": p["mean"], "std": p["std"]}
    for stem in INPUTS:
        decoded = f"{stem}.pil.decoded.png"
        img = Image.open(os.path.join(IMAGES, decoded)).convert("RGB")
        case = {"image": stem, "decoded": decoded, "width": img.width, "height": img.height}
        for name, p in PRESETS.items():
            resize = T.Resize(p["size"], interpolation=p["interpolation"])
            resized = resize(img)
            # torchvision's Resize on a PIL image is PIL's Image.resize with that filter.
            assert np.array_equal(np.asarray(resized), np.asarray(img.resize(resized.size, p["resample"])))
            pixels = np.ascontiguousarray(np.asarray(resized, dtype=np.uint8))
            h, w = pixels.shape[:2]
            top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
            tensor = T.Compose([resize, T.CenterCrop(224), T.ToTensor(), T.Normalize(p["mean"], p["std"])])(img).numpy()
            cropped = pixels[top:top + 224, left:left + 224]
            mapped = np.stack([luts[name][c][cropped[:, :, c]] for c in range(3)])
            assert np.array_equal(tensor, mapped), f"{stem} {name}: the tensor is not lut[c][pixels]"
            stage = {"width": w, "height": h, "sha256": hashlib.sha256(pixels.tobytes()).hexdigest(), "crop": [top, left]}
            if stem in STORED:
                stage["resized"] = f"{stem}.{name}.resized.png"
                resized.save(os.path.join(out, stage["resized"]), optimize=True)
            case[name] = stage
        manifest["images"].append(case)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
