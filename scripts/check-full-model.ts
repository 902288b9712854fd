// The full-size check against PyTorch: seeded torchvision ResNet-50 weights saved as safetensors
// (F32 and F16) by scripts/full_model_reference.py, run through the `resnet50` CLI exactly as a user
// would, compared with PyTorch's eval-mode logits and features.
//
//   npx tsx scripts/check-full-model.ts [--device cpu|webgpu] [--precision f32|f16] [--keep DIR]
//
// Pass: max |error| ≤ tol × max |expected| (tol 1e-4 in f32, 1e-2 with --precision f16).
// Needs Debian's python3-torch and python3-torchvision (run as /usr/bin/python3).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorStats } from '../src/tensor/compare.ts';
import { parseNpy, npyToTensor } from '../src/tensor/npy.ts';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    precision: { type: 'string', default: 'f32' },
    keep: { type: 'string' },
  },
});
const root = join(import.meta.dirname, '..');
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'resnet50-full-'));
mkdirSync(dir, { recursive: true });
const tol = values.precision === 'f16' ? 1e-2 : 1e-4;

const read = (path: string) => npyToTensor(parseNpy(readFileSync(path), path)).data;

console.log(`PyTorch reference → ${dir}`);
if (!existsSync(join(dir, 'resnet50.safetensors'))) {
  execFileSync('/usr/bin/python3', [join(root, 'scripts', 'full_model_reference.py'), dir], { stdio: 'inherit' });
}

const runs: { weights: string; input: string; ref: string }[] = [
  ...['x_b1_224', 'x_b4_224', 'x_b1_160x288', 'x_b4_160x288'].map((input) => ({ weights: 'resnet50.safetensors', input, ref: input })),
  { weights: 'resnet50_f16.safetensors', input: 'x_b1_224', ref: 'x_b1_224.f16' },
];
let failed = 0;
for (const { weights, input, ref } of runs) {
  for (const [command, output] of [['classify', 'logits'], ['embed', 'features']] as const) {
    const out = join(dir, `ours.${ref}.${output}.npy`);
    const started = performance.now();
    execFileSync(process.execPath, [
      join(root, 'bin', 'resnet50.js'), command, join(dir, `${input}.npy`),
      '--weights', join(dir, weights), '--device', values.device!, '--precision', values.precision!, '--out', out,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const seconds = (performance.now() - started) / 1000;
    const e = errorStats(read(out), read(join(dir, `${ref}.${output}.npy`)));
    const ok = e.maxRel <= tol;
    if (!ok) failed++;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${command.padEnd(8)} ${weights.padEnd(25)} ${input.padEnd(13)} ${output.padEnd(8)} ` +
        `max-abs ${e.maxAbs.toExponential(2)}  max-rel ${e.maxRel.toExponential(2)}  (tol ${tol}, ${seconds.toFixed(1)} s)`,
    );
  }
}
if (!values.keep) rmSync(dir, { recursive: true, force: true });
console.log(`${runs.length * 2 - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
