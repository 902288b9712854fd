// CLIP RN50 (a TorchScript archive, F16 weights) and BiT R50x1 (an .npz in Google's names, HWIO)
// on the CPU reference, against PyTorch stand-ins made by scripts/make_arch_fixtures.py; and
// hostile TorchScript archives refused before anything runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCpu } from '../src/kernels/cpu/backend.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { loadWeights, parseWeights } from '../src/weights/load.ts';
import { expectClose, fixture, FIXTURES } from './helpers.ts';

const DIR = join(FIXTURES, 'arch');
const bytes = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

describe('CLIP RN50 image tower from a TorchScript archive', () => {
  it('keeps visual.* with a notice about the text tower, and matches encode_image at batch 2', () => {
    const notices: string[] = [];
    const net = loadWeights(bytes('clip_rn50_div16.pt'), 'clip.pt', { onNotice: (m) => notices.push(m) });
    expect([net.arch, net.featureDim, net.numClasses, net.inputSize]).toEqual(['clip-rn50', 64, null, 96]);
    expect(notices.join()).toMatch(/clip\.pt: ignored the text tower .*token_embedding\.weight/);
    const out = runCpu(net, fixture('arch/clip_rn50_div16.input.npy'));
    console.log('CLIP cpu', expectClose(out.features, fixture('arch/clip_rn50_div16.embedding.npy'), 1e-4, 'CLIP embedding'));
  });

  it('refuses another input size, naming the size it takes', () => {
    const net = loadWeights(bytes('clip_rn50_div16.pt'), 'clip.pt', { onNotice: () => {} });
    expect(() => runCpu(net, new Tensor([1, 3, 64, 64], new Float32Array(3 * 64 * 64)))).toThrow(/takes 96×96 inputs .*got 64×64/);
  });

  it.each([
    ['hostile_os_system.pt', /refusing global 'posix\.system'/],
    ['hostile_state_list.pt', /TorchScript module '__torch__\.Clip' has a list as its state/],
    ['hostile_state_class.pt', /TorchScript module '__torch__\.Clip' has 'f' = __torch__\.Other: only tensors/],
  ])('%s is refused', (name, message) => {
    expect(() => parseWeights(bytes(name), name)).toThrow(message);
  });
});

describe('BiT R50x1 from an .npz in Google’s names', () => {
  it('matches the pre-logits and logits at batch 2', () => {
    const net = loadWeights(bytes('bit_r50x1_div16.npz'), 'bit.npz');
    expect([net.arch, net.featureDim, net.numClasses]).toEqual(['bit-r50x1', 128, 10]);
    const out = runCpu(net, fixture('arch/bit_r50x1_div16.input.npy'));
    console.log('BiT features', expectClose(out.features, fixture('arch/bit_r50x1_div16.features.npy'), 1e-4, 'BiT features'));
    console.log('BiT logits', expectClose(out.logits!, fixture('arch/bit_r50x1_div16.logits.npy'), 1e-4, 'BiT logits'));
  });

  it('names a missing tensor', () => {
    expect(() => loadWeights(bytes('bit_r50x1_div16.npz'), 'bit.npz', { arch: 'clip-rn50' })).toThrow(/bit\.npz: not a CLIP RN50 image tower .*missing/);
  });
});
