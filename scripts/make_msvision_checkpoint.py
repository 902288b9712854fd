#!/usr/bin/python3
"""A checkpoint laid out like the Microsoft Vision Model's MicrosoftVision.ResNet50.tar, for the
named-weights tests (test/weights-download.test.ts), with its PyTorch reference output.

Usage: /usr/bin/python3 scripts/make_msvision_checkpoint.py OUT_DIR

Writes, in OUT_DIR:
  MicrosoftVision.ResNet50.tar  torch.save({'state_dict': {...}, 'epoch': 1}) (zip format, .tar name):
                                a seeded full-size torchvision ResNet-50 backbone (no fc) under
                                DataParallel's 'module.' prefix, plus task-head tensors beyond the
                                backbone ('module.heads.…'), which the loader must drop with a notice
  input.npy                     float32 [2, 3, 64, 64]
  features.npy                  float32 [2, 2048]: the backbone's pooled features in eval mode
Generated at test time (98 MB), not committed; seeded, so every run writes the same tensors.
"""
import os
import sys

import numpy as np
import torch
import torchvision

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet50()
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.1, 0.1)
model.fc = torch.nn.Identity()
model.eval()

state = {f"module.{k}": v for k, v in model.state_dict().items()}
state["module.heads.tagging.weight"] = torch.randn(17, 2048)
state["module.heads.tagging.bias"] = torch.randn(17)
state["module.heads.detection.0.weight"] = torch.randn(8, 2048, 1, 1)
torch.save({"state_dict": state, "epoch": 1}, os.path.join(out, "MicrosoftVision.ResNet50.tar"))

x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32))
with torch.no_grad():
    features = model(x)
np.save(os.path.join(out, "input.npy"), x.numpy())
np.save(os.path.join(out, "features.npy"), features.numpy())
