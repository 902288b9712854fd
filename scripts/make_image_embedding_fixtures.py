#!/usr/bin/python3
"""Image → embedding references from the official pipelines, for the end-to-end test of `embed`.

    /usr/bin/python3 scripts/make_image_embedding_fixtures.py

For a set of the committed test images (JPEG and PNG; larger and smaller than 256; portrait and
landscape; greyscale, RGBA, palette), computes the reduced ResNet-50's features
(test/fixtures/resnet50_div8/weights.safetensors, eval mode) on:
  torchvision: PIL Image.open().convert("RGB") → Resize(256) → CenterCrop(224) → ToTensor → Normalize
  msvision:    cv2.imread (BGR, EXIF applied) → cv2.resize 256×256 INTER_LINEAR → [16:240, 16:240]
               → /255 → (x − mean[c]) / std[c] by channel index
and writes test/fixtures/images/embeddings.<preset>.npy ([N, 256] float32) and embeddings.json (the
image order). Needs Debian's python3-torch, python3-torchvision, python3-pil, python3-opencv.
"""

import json
import os
import sys

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import ResNet50Div8, read_safetensors, setup_torch  # noqa: E402

ROOT = os.path.dirname(HERE)
IMAGES = os.path.join(ROOT, "test", "fixtures", "images")
FILES = [
    "rgb_q90_400x300.jpg",
    "rgb_progressive_300x450.jpg",
    "rgb_exif6_320x240.jpg",
    "grey_q90_250x300.jpg",
    "rgb_301x199.png",
    "rgba_40x33.png",
    "grey_280x260.png",
    "palette_260x300.png",
]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def torchvision_input(path: str) -> torch.Tensor:
    t = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])
    return t(Image.open(path).convert("RGB"))


def msvision_input(path: str) -> torch.Tensor:
    img = cv2.imread(path)  # BGR, EXIF orientation applied
    img = cv2.resize(img, (256, 256))[16:240, 16:240]
    x = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)
    for c in range(3):
        x[c] = (x[c] - MEAN[c]) / STD[c]
    return x


def main() -> None:
    setup_torch()
    model = ResNet50Div8()
    tensors, _ = read_safetensors(os.path.join(ROOT, "test", "fixtures", "resnet50_div8", "weights.safetensors"))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    model.fc = torch.nn.Identity()
    model.eval()
    for preset, make in (("torchvision", torchvision_input), ("msvision", msvision_input)):
        x = torch.stack([make(os.path.join(IMAGES, f)) for f in FILES])
        with torch.no_grad():
            features = model(x).numpy().astype(np.float32)
        np.save(os.path.join(IMAGES, f"embeddings.{preset}.npy"), np.ascontiguousarray(features))
        print(f"{preset}: features {features.shape}, std {features.std():.3f}")
    with open(os.path.join(IMAGES, "embeddings.json"), "w") as f:
        json.dump({"weights": "resnet50_div8/weights.safetensors", "files": FILES}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
