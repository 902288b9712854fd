// The reduced-width ResNet-50 (every width / 8, 10 classes; scripts/make_fixtures.py) on the CPU
// reference against PyTorch, stage by stage, from the weights PyTorch wrote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCpu } from '../src/kernels/cpu/backend.ts';
import { STAGE_NAMES } from '../src/nn/forward.ts';
import { readSafetensors } from '../src/weights/safetensors.ts';
import { loadResNet, WeightsError } from '../src/weights/resnet.ts';
import { memoryArchive } from '../src/weights/archive.ts';
import { randomStateDict } from '../src/nn/random.ts';
import { RESNET50 } from '../src/nn/spec.ts';
import { FIXTURES, expectClose, fixture } from './helpers.ts';

const DIR = join(FIXTURES, 'resnet50_div8');
const load = (file: string) => loadResNet(readSafetensors(readFileSync(join(DIR, file)), file));

describe('reduced ResNet-50 on the CPU reference vs PyTorch', () => {
  const model = load('weights.safetensors');

  it('infers the reduced widths and the 10-class head from the state dict', () => {
    expect(model.graph.spec.stemWidth).toBe(8);
    expect(model.graph.featureDim).toBe(256);
    expect(model.fc?.outFeatures).toBe(10);
    expect(model.blocks.length).toBe(16);
  });

  for (const input of ['input_b2_64x64', 'input_b1_45x61']) {
    it(`${input}: every stage, features and logits within 1e-5 of PyTorch`, () => {
      const out = runCpu(model, fixture(`resnet50_div8/${input}.npy`), new Set(STAGE_NAMES));
      for (const stage of STAGE_NAMES) {
        expectClose(out.stages.get(stage)!, fixture(`resnet50_div8/${input}.${stage}.npy`), 1e-5, stage);
      }
      const f = expectClose(out.features, fixture(`resnet50_div8/${input}.features.npy`), 1e-5, 'features');
      const l = expectClose(out.logits!, fixture(`resnet50_div8/${input}.logits.npy`), 1e-5, 'logits');
      console.log(`${input}: features max-abs ${f.maxAbs.toExponential(2)} max-rel ${f.maxRel.toExponential(2)}; logits max-abs ${l.maxAbs.toExponential(2)} max-rel ${l.maxRel.toExponential(2)}`);
    });
  }

  it('reads F16 weights and matches PyTorch run on the same f16-rounded weights', () => {
    const out = runCpu(load('weights_f16.safetensors'), fixture('resnet50_div8/input_b2_64x64.npy'));
    expectClose(out.features, fixture('resnet50_div8/input_b2_64x64.f16weights.features.npy'), 1e-5, 'features');
    expectClose(out.logits!, fixture('resnet50_div8/input_b2_64x64.f16weights.logits.npy'), 1e-5, 'logits');
  });

  it('loads an embedding model without fc whose keys carry a module. prefix', () => {
    const embedder = load('weights_nofc.safetensors');
    expect(embedder.fc).toBeNull();
    const out = runCpu(embedder, fixture('resnet50_div8/input_b2_64x64.npy'));
    expect(out.logits).toBeNull();
    expectClose(out.features, fixture('resnet50_div8/input_b2_64x64.features.npy'), 1e-5, 'features');
  });
});

describe('state dict validation', () => {
  const full = randomStateDict(RESNET50, 3);
  const withChanges = (change: (m: Map<string, { shape: readonly number[]; data: Float32Array }>) => void) => {
    const m = new Map([...full.tensors].map(([k, e]) => [k, { shape: e.shape, data: e.toFloat32() }]));
    change(m);
    return memoryArchive(m, 'bad.safetensors');
  };

  it('loads the full-width ResNet-50 layout with 1000 classes', () => {
    const model = loadResNet(full);
    expect(model.graph.featureDim).toBe(2048);
    expect(model.fc?.outFeatures).toBe(1000);
    expect(model.blocks.map((b) => b.name).join(' ')).toContain('layer4.2');
  });

  it('reports every missing, misshapen and unexpected key in one error', () => {
    const archive = withChanges((m) => {
      m.delete('layer2.1.conv2.weight');
      m.delete('layer4.0.downsample.1.running_var');
      m.set('layer3.0.bn1.bias', { shape: [7], data: new Float32Array(7) });
      m.set('head.extra', { shape: [1], data: new Float32Array(1) });
    });
    let message = '';
    try {
      loadResNet(archive);
    } catch (e) {
      expect(e).toBeInstanceOf(WeightsError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^bad\.safetensors: not a ResNet-50 state dict/);
    expect(message).toContain('2 missing: layer2.1.conv2.weight, layer4.0.downsample.1.running_var');
    expect(message).toContain('1 misshapen: layer3.0.bn1.bias is [7], expected [256]');
    expect(message).toContain('1 unexpected: head.extra');
  });

  it('refuses a half-present classifier', () => {
    const archive = withChanges((m) => m.delete('fc.bias'));
    expect(() => loadResNet(archive)).toThrow(/1 missing: fc\.bias/);
  });

  it('strips module. and model. prefixes but refuses names that then collide', () => {
    const prefixed = withChanges((m) => {
      for (const [k, v] of [...m]) {
        m.delete(k);
        m.set(`module.${k}`, v);
      }
    });
    expect(loadResNet(prefixed).fc?.outFeatures).toBe(1000);
    const colliding = withChanges((m) => m.set('model.fc.bias', m.get('fc.bias')!));
    expect(() => loadResNet(colliding)).toThrow(/two tensors are both named 'fc\.bias'/);
  });
});
