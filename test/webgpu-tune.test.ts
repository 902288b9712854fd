// Tuning (src/kernels/webgpu/tune.ts): candidates timed and validated on small layers, the winner per
// layer stored per adapter/precision/batch and used by a later engine ('cached'), ignored with a
// notice when malformed or from another adapter, 'off' ignoring it; the Node file store.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGpuRuntime, createWebGpuEngine, type TuningStore, type TuningTable } from '../src/kernels/webgpu/engine.ts';
import { choiceName, type LayerShape } from '../src/kernels/webgpu/candidates.ts';
import { adapterId, parseTable, tableKey, tuneLayers } from '../src/kernels/webgpu/tune.ts';
import { randomInput, randomResNet } from '../src/nn/random.ts';
import { reducedResNet50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { nodeTuningStore } from '../src/platform/node-tuning-cache.ts';
import { profileMain } from '../src/cli/profile.ts';
import { readFile } from 'node:fs/promises';
import { Tensor } from '../src/tensor/tensor.ts';

const T = 120_000;
const LAYERS: LayerShape[] = [
  { op: 'conv', n: 2, h: 9, w: 7, c: 13, k: 3, stride: 2, pad: 1, cout: 21 },
  { op: 'conv', n: 2, h: 9, w: 7, c: 13, k: 3, stride: 2, pad: 1, cout: 21 },
  { op: 'conv', n: 2, h: 5, w: 5, c: 24, k: 1, stride: 1, pad: 0, cout: 40 },
  { op: 'fc', n: 2, h: 1, w: 1, c: 40, k: 1, stride: 1, pad: 0, cout: 10 },
];

function memoryStore(): TuningStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return { where: 'memory', data, load: async (k) => data.get(k) ?? null, save: async (k, t) => void data.set(k, JSON.parse(JSON.stringify(t))) };
}

describe('tuning', () => {
  let rt: WebGpuRuntime;
  beforeAll(async () => {
    rt = await WebGpuRuntime.create(nodeGpu(), 'f32');
  }, T);
  afterAll(() => rt?.dispose());

  it('times every candidate per distinct layer, validated against the CPU reference; the default is one of them', async () => {
    const { table, rows } = await tuneLayers(rt, LAYERS, { runs: 1 });
    expect(rows.map((r) => [r.layer, r.count])).toEqual([
      ['conv 3×3/2 p1 13→21 @9×7 n2', 2], ['conv 1×1/1 p0 24→40 @5×5 n2', 1], ['fc 40→10 n2', 1],
    ]);
    for (const r of rows) {
      expect(r.results[0].choice).toBe(choiceName(rt.ctx.config)); // the default first
      expect(r.results.length).toBeGreaterThan(1);
      for (const c of r.results) {
        expect(c.error, `${r.layer} ${c.choice}`).toBeUndefined();
        expect(c.maxRel!).toBeLessThanOrEqual(1e-4);
        expect(c.ms!).toBeGreaterThanOrEqual(0);
      }
      // The winner is the fastest valid candidate, so never slower than the default as measured.
      expect(r.winnerMs!).toBeLessThanOrEqual(r.defaultMs!);
      expect(r.winnerMs).toBe(Math.min(...r.results.map((c) => c.ms!)));
      expect(choiceName(table.layers[r.layer])).toBe(r.winner);
    }
    expect(table.batch).toBe(2);
    expect(parseTable(table, adapterId(rt.ctx.adapterInfo), 'f32', 2)).toBe(table);
    expect(parseTable(table, { ...adapterId(rt.ctx.adapterInfo), description: 'other driver' }, 'f32', 2)).toBe('made on another adapter');
    expect(parseTable(table, adapterId(rt.ctx.adapterInfo), 'f16', 2)).toBe('made for f32 batch 2');
    expect(parseTable({ ...table, layers: { x: { gemmKernel: 'gemm_wg', gemm: { tm: -1 } } } }, adapterId(rt.ctx.adapterInfo), 'f32', 2))
      .toBe('a layer entry is malformed');
  }, T);

  it("an engine uses the cached table ('cached'), ignores it ('off'), reports a malformed one and uses the default", async () => {
    // A reduced-width ResNet-50 at 32×32 keeps this fast; the table forces gemm_wg on every layer.
    const model = randomResNet(reducedResNet50(8, 10), 3);
    const x = new Tensor([2, 3, 32, 32], randomInput([2, 3, 32, 32], 4));
    const store = memoryStore();
    const off = await createWebGpuEngine(model, nodeGpu(), { precision: 'f32', tuning: 'off', tuningStore: store });
    const notices: string[] = [];
    try {
      const defaults = await off.layerChoices(x);
      const wg = { gemmKernel: 'gemm_wg', gemm: { tm: 2, tn4: 1, wgX: 8, wgY: 8, bk4: 4 } } as const;
      const table: TuningTable = {
        format: 'resnet50-webgpu-tuning', version: 1, adapter: adapterId(rt.ctx.adapterInfo), precision: 'f32', batch: 2,
        date: new Date().toISOString(), layers: Object.fromEntries(defaults.map((d) => [d.layer, wg])),
      };
      const key = tableKey(table.adapter, 'f32', 2);
      await store.save(key, table);
      const cached = await createWebGpuEngine(model, nodeGpu(), { precision: 'f32', tuning: 'cached', tuningStore: store });
      try {
        expect((await cached.layerChoices(x)).every((c) => c.choice === choiceName(wg))).toBe(true);
        expect((await off.layerChoices(x)).map((c) => c.choice)).toEqual(defaults.map((c) => c.choice));
        const [a, b] = [await off.run(x), await cached.run(x)];
        const scale = Math.max(...a.features.data.map(Math.abs));
        expect(Math.max(...a.features.data.map((v, i) => Math.abs(v - b.features.data[i])))).toBeLessThanOrEqual(1e-4 * scale);
      } finally {
        cached.dispose();
      }
      store.data.set(key, { ...table, version: 7 });
      const bad = await createWebGpuEngine(model, nodeGpu(), { precision: 'f32', tuningStore: store, onNotice: (m) => notices.push(m) });
      try {
        expect((await bad.layerChoices(x)).map((c) => c.choice)).toEqual(defaults.map((c) => c.choice));
        expect(notices).toEqual([expect.stringMatching(/tuning table .* ignored: not a resnet50-webgpu tuning table/)]);
      } finally {
        bad.dispose();
      }
    } finally {
      off.dispose();
    }
  }, T);

  it('the Node store writes <cache>/tuning/<key>.json atomically and reads it back; non-JSON is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'r50-tuning-'));
    try {
      const store = nodeTuningStore(join(dir, 'tuning'));
      expect(await store.load('absent')).toBeNull();
      const table = { format: 'resnet50-webgpu-tuning', version: 1 } as unknown as TuningTable;
      await store.save('k1', table);
      expect(await store.load('k1')).toEqual(table);
      expect(await readdir(join(dir, 'tuning'))).toEqual(['k1.json']);
      await writeFile(join(dir, 'tuning', 'k2.json'), '{not json');
      await expect(store.load('k2')).rejects.toThrow(/k2\.json is not JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });


  it('resnet50 profile: every dispatch with kernel, shape, FLOPs, bytes and GPU time; the host split', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'r50-profile-'));
    try {
      const json = join(dir, 'p.json');
      expect(await profileMain('profile', ['--size', '32', '--runs', '1', '--tuning', 'off', '--json', json])).toBe(0);
      const r = JSON.parse(await readFile(json, 'utf8'));
      expect(r.steps).toHaveLength(57); // input, stem, maxpool, 16 blocks (52 convs), avgpool, fc
      const convs = r.steps.filter((s: { flops: number }) => s.flops > 0);
      expect(convs).toHaveLength(54);
      // ResNet-50 at 32×32: 4.1 GFLOP · (32/224)² ≈ 0.084 G multiply-adds ×2, a little more with channel padding.
      const gflop = convs.reduce((a: number, s: { flops: number }) => a + s.flops, 0) / 1e9;
      expect(gflop).toBeGreaterThan(0.16);
      expect(gflop).toBeLessThan(0.2);
      expect(r.steps[1].shape).toBe('1×32×32×3 7×7/2 → 16×16×64 [256×196]·[196×64]');
      for (const s of r.steps) expect(s.ms >= 0 && s.bytes > 0).toBe(true);
      expect(r.host[0].total).toBeGreaterThan(0);
      expect(r.gpuMs).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, T);
});
