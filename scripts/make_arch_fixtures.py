#!/usr/bin/python3
"""PyTorch stand-ins for the seed's other two models, at reduced width (test/fixtures/arch/).

Run with Debian's torch 1.13:  /usr/bin/python3 scripts/make_arch_fixtures.py [OUTDIR]

  clip_rn50_div16.pt       a traced TorchScript archive (torch.jit.trace + save) of CLIP's model
                           with its RN50 image tower ("ModifiedResNet", CLIP's model.py) at every
                           width / 16 (stem 2-2-4, stages 4..32, embed 128, 2 heads of 64, output
                           64, a 3x3 attention grid: 96x96 inputs), weights stored F16 as in
                           OpenAI's RN50.pt, beside a few text-tower tensors the reader must ignore
  clip_rn50_div16.input.npy / .embedding.npy   a batch of 2 inputs and encode_image's output
  bit_r50x1_div16.npz      BiT's ResNetV2 (BiT's own PyTorch code) at every width / 16 (root 4,
                           GroupNorm 2 groups: 2 channels a group as in R50x1; 10 classes), saved
                           in Google's names and HWIO layout as BiT-M-R50x1.npz is
  bit_r50x1_div16.input.npy / .features.npy / .logits.npy   batch 2 at 61x47: pre-logits, logits
  hostile_*.pt             TorchScript-shaped zips whose data.pkl calls os.system, or builds a
                           __torch__ module from a list, or from a dict holding a class

Seeded and CPU-only; the references are computed in float64 from the very values stored (CLIP's
F16 weights widened), so they are exact to well under f32 rounding.
"""
from __future__ import annotations

import io
import os
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "fixtures", "arch")
DIV = 16


# ---- CLIP (after CLIP's model.py) ----

class ClipBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([
                ("-1", nn.AvgPool2d(stride)),
                ("0", nn.Conv2d(inplanes, planes * 4, 1, stride=1, bias=False)),
                ("1", nn.BatchNorm2d(planes * 4)),
            ]))

    def forward(self, x):
        identity = x
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.avgpool(out)
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu3(out)


class AttentionPool2d(nn.Module):
    def __init__(self, spacial_dim, embed_dim, num_heads, output_dim=None):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(spacial_dim ** 2 + 1, embed_dim) / embed_dim ** 0.5)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim or embed_dim)
        self.num_heads = num_heads

    def forward(self, x):
        x = x.flatten(start_dim=2).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
            in_proj_weight=None, in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0, out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias, use_separate_proj_weight=True, training=self.training, need_weights=False)
        return x.squeeze(0)


class ModifiedResNet(nn.Module):
    def __init__(self, layers, output_dim, heads, input_resolution=224, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.relu3 = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(2)
        self._inplanes = width
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.attnpool = AttentionPool2d(input_resolution // 32, width * 32, heads, output_dim)

    def _make_layer(self, planes, blocks, stride=1):
        layers = [ClipBottleneck(self._inplanes, planes, stride)]
        self._inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(ClipBottleneck(self._inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.avgpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


class Clip(nn.Module):
    """CLIP's top module: the image tower under `visual`, and a stand-in for the text tower's tensors."""

    def __init__(self, width, grid, output_dim):
        super().__init__()
        self.visual = ModifiedResNet([3, 4, 6, 3], output_dim, width * 32 // 64, grid * 32, width)
        self.token_embedding = nn.Embedding(11, 8)
        self.positional_embedding = nn.Parameter(torch.randn(5, 8))
        self.ln_final = nn.LayerNorm(8)
        self.text_projection = nn.Parameter(torch.randn(8, output_dim))
        self.logit_scale = nn.Parameter(torch.tensor(2.6592))

    def forward(self, image):
        return self.visual(image)


def randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            m.weight.data = 0.5 + torch.rand(m.weight.shape, generator=gen)
            m.bias.data = 0.1 * torch.randn(m.bias.shape, generator=gen)
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean = 0.1 * torch.randn(m.running_mean.shape, generator=gen)
            m.running_var = 0.5 + 1.5 * torch.rand(m.running_var.shape, generator=gen)


def make_clip():
    torch.manual_seed(17)
    gen = torch.Generator().manual_seed(18)
    width, grid, output_dim = 64 // DIV, 3, 1024 // DIV
    model = Clip(width, grid, output_dim)
    randomise_bn(model, gen)
    for name, p in model.named_parameters():
        if name.endswith("proj.bias"):
            p.data = 0.1 * torch.randn(p.shape, generator=gen)
    model.eval()
    model.half()  # the stored weights, as OpenAI's RN50.pt stores them
    x = torch.randn(2, 3, grid * 32, grid * 32, generator=gen).half().float()  # stored as f16
    with torch.no_grad():
        reference = model.double()(x.double()).float()  # the F16 values, computed in f64
        model.float()
        traced = torch.jit.trace(model, x)
    traced.half()
    path = os.path.join(OUT, f"clip_rn50_div{DIV}.pt")
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    # Without the .debug_pkl records (source ranges for error messages; torch.jit.load does not need
    # them), to keep the fixture small.
    with zipfile.ZipFile(buffer) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            if not item.filename.endswith(".debug_pkl"):
                zout.writestr(item, zin.read(item.filename))  # code/ stays deflated, tensors stored
    torch.jit.load(path)  # still a TorchScript archive
    np.save(os.path.join(OUT, f"clip_rn50_div{DIV}.input.npy"), x.half().numpy())
    np.save(os.path.join(OUT, f"clip_rn50_div{DIV}.embedding.npy"), reference.numpy())
    return path


def hostile_archive(name, data_pkl):
    """A TorchScript-shaped zip (data.pkl, version, a code/ record) whose data.pkl is hand-written."""
    with zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/code/__torch__.py", "")
        z.writestr("archive/version", "3\n")


def make_hostile():
    # os.system named through GLOBAL: Python's own unpickler would run it.
    hostile_archive("hostile_os_system.pt", b"\x80\x02cposix\nsystem\nX\x0b\x00\x00\x00touch /tmp/x\x85R.")
    # A __torch__ module whose BUILD state is a list, not a dict.
    hostile_archive("hostile_state_list.pt", b"\x80\x02c__torch__\nClip\n)\x81]K\x01ab.")
    # A __torch__ module whose state dict holds a class (not a tensor, module or plain value).
    hostile_archive("hostile_state_class.pt", b"\x80\x02c__torch__\nClip\n)\x81}X\x01\x00\x00\x00fc__torch__\nOther\nsb.")


# ---- BiT (after BiT's bit_pytorch/models.py) ----

class StdConv2d(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        v, m = torch.var_mean(w, dim=[1, 2, 3], keepdim=True, unbiased=False)
        w = (w - m) / torch.sqrt(v + 1e-10)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class PreActBottleneck(nn.Module):
    def __init__(self, cin, cout, cmid, stride, groups):
        super().__init__()
        self.gn1 = nn.GroupNorm(groups, cin)
        self.conv1 = StdConv2d(cin, cmid, 1, bias=False)
        self.gn2 = nn.GroupNorm(groups, cmid)
        self.conv2 = StdConv2d(cmid, cmid, 3, stride=stride, padding=1, bias=False)
        self.gn3 = nn.GroupNorm(groups, cmid)
        self.conv3 = StdConv2d(cmid, cout, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or cin != cout:
            self.downsample = StdConv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        out = self.relu(self.gn1(x))
        residual = x
        if hasattr(self, "downsample"):
            residual = self.downsample(out)
        out = self.conv1(out)
        out = self.conv2(self.relu(self.gn2(out)))
        out = self.conv3(self.relu(self.gn3(out)))
        return out + residual


class ResNetV2(nn.Module):
    def __init__(self, units, width, groups, head_size):
        super().__init__()
        self.root = nn.Sequential(OrderedDict([
            ("conv", StdConv2d(3, width, 7, stride=2, padding=3, bias=False)),
            ("pad", nn.ConstantPad2d(1, 0)),
            ("pool", nn.MaxPool2d(3, stride=2, padding=0)),
        ]))
        blocks = []
        cin = width
        for b, n in enumerate(units):
            cmid, cout = width * 2 ** b, width * 4 * 2 ** b
            unit = [(f"unit{u:02d}", PreActBottleneck(cin if u == 1 else cout, cout, cmid, 1 if b == 0 or u > 1 else 2, groups)) for u in range(1, n + 1)]
            blocks.append((f"block{b + 1}", nn.Sequential(OrderedDict(unit))))
            cin = cout
        self.body = nn.Sequential(OrderedDict(blocks))
        self.head = nn.Sequential(OrderedDict([
            ("gn", nn.GroupNorm(groups, cin)), ("relu", nn.ReLU(inplace=True)),
            ("avg", nn.AdaptiveAvgPool2d(1)), ("conv", nn.Conv2d(cin, head_size, 1, bias=True)),
        ]))

    def features(self, x):
        h = self.head
        return h.avg(h.relu(h.gn(self.body(self.root(x)))))[..., 0, 0]

    def forward(self, x):
        return self.head(self.body(self.root(x)))[..., 0, 0]


def google_names(model):
    """BiT-M-R50x1.npz's names and layouts (HWIO kernels), as BiT's load_from reads them."""
    hwio = lambda w: w.detach().numpy().transpose(2, 3, 1, 0).copy()
    vec = lambda t: t.detach().numpy().copy()
    out = {
        "resnet/root_block/standardized_conv2d/kernel": hwio(model.root.conv.weight),
        "resnet/group_norm/gamma": vec(model.head.gn.weight),
        "resnet/group_norm/beta": vec(model.head.gn.bias),
        "resnet/head/conv2d/kernel": hwio(model.head.conv.weight),
        "resnet/head/conv2d/bias": vec(model.head.conv.bias),
    }
    for bname, block in model.body.named_children():
        for uname, unit in block.named_children():
            p = f"resnet/{bname}/{uname}/"
            for letter, conv, gn in (("a", unit.conv1, unit.gn1), ("b", unit.conv2, unit.gn2), ("c", unit.conv3, unit.gn3)):
                out[f"{p}{letter}/standardized_conv2d/kernel"] = hwio(conv.weight)
                out[f"{p}{letter}/group_norm/gamma"] = vec(gn.weight)
                out[f"{p}{letter}/group_norm/beta"] = vec(gn.bias)
            if hasattr(unit, "downsample"):
                out[f"{p}a/proj/standardized_conv2d/kernel"] = hwio(unit.downsample.weight)
    return out


def make_bit():
    torch.manual_seed(27)
    gen = torch.Generator().manual_seed(28)
    model = ResNetV2([3, 4, 6, 3], 64 // DIV, 32 // DIV, 10)
    randomise_bn(model, gen)
    # The last GroupNorm of each residual branch (gn3, Google's c/group_norm) at 0.3 of the others'
    # scale, as in a trained ResNet v2, whose branches are small beside the stream they add to. With
    # every gamma in 0.5 .. 1.5 the random network is chaotic: it amplifies any rounding ~15x (rounding
    # only its input to f16 moved the pre-logits by 3.7e-3), so its f16 error measured the stand-in,
    # not the engine.
    for block in model.body.children():
        for unit in block.children():
            unit.gn3.weight.data *= 0.3
            unit.gn3.bias.data *= 0.3
    for m in model.modules():
        if isinstance(m, StdConv2d):  # any scale and offset: standardisation removes them
            m.weight.data = 0.3 * torch.randn(m.weight.shape, generator=gen) + 0.05
    model.head.conv.bias.data = 0.1 * torch.randn(model.head.conv.bias.shape, generator=gen)
    model.eval()
    np.savez(os.path.join(OUT, f"bit_r50x1_div{DIV}.npz"), **google_names(model))
    x = torch.randn(2, 3, 61, 47, generator=gen)
    with torch.no_grad():
        m64 = model.double()
        np.save(os.path.join(OUT, f"bit_r50x1_div{DIV}.input.npy"), x.numpy())
        np.save(os.path.join(OUT, f"bit_r50x1_div{DIV}.features.npy"), m64.features(x.double()).float().numpy())
        np.save(os.path.join(OUT, f"bit_r50x1_div{DIV}.logits.npy"), m64(x.double()).float().numpy())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_clip()
    make_hostile()
    make_bit()
    for f in sorted(os.listdir(OUT)):
        print(f"{f}: {os.path.getsize(os.path.join(OUT, f))} bytes")
