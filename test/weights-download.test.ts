// Weights by URL and by name, downloaded into the cache and verified (src/platform/node-weights-cache.ts,
// src/cli/weights.ts), against a real HTTP server on 127.0.0.1 that this test starts: the outputs
// through a downloaded file equal PyTorch's; the cache is used with the server gone, a file changed on
// disk is refused then fetched again; cut-off bodies, 404s, redirects and wrong hashes fail with one
// line, nothing cached and no output written; names resolve to their official files under a mirror;
// a Microsoft-Vision-style checkpoint (made by PyTorch) loads as a 2048-d embedder, its extra keys noted;
// clip-rn50 is held to its published SHA-256 and bit-m-r50x1 (none published) loads with its preset.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMED_WEIGHTS, ResNet50, Tensor } from '../src/node.ts';
import { cliWithEnv, expectClose, failsWith, fixture, FIXTURES, readNpy } from './helpers.ts';
import { startTestServer, type TestServer } from './http-server.ts';

const MODEL = join(FIXTURES, 'resnet50_div8');
const ARCH = join(FIXTURES, 'arch');
const WEIGHTS = readFileSync(join(MODEL, 'weights.safetensors'));
const X2 = join(MODEL, 'input_b2_64x64.npy');
const LOGITS = fixture('resnet50_div8/input_b2_64x64.logits.npy');


let dir: string;
let server: TestServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'resnet50-download-'));
  server = await startTestServer({
    '/w.safetensors': { body: WEIGHTS },
    '/cut.safetensors': { body: WEIGHTS, cut: 'always' },
    '/cut-once.safetensors': { body: WEIGHTS, cut: 'once' },
    '/gone.safetensors': { status: 404 },
    '/moved.safetensors': { redirect: '/w.safetensors' },
    '/loop.safetensors': { redirect: '/loop.safetensors' },
  });
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('weights from an http URL', () => {
  it('give PyTorch outputs, work with the server stopped, refuse a changed cached file until it can be re-fetched', async () => {
    const cache = join(dir, 'cache-url');
    const env = { RESNET50_CACHE: cache };
    const url = `${server.url}/w.safetensors`;
    const classify = (out: string) => cliWithEnv(env, 'classify', X2, '--weights', url, '--device', 'cpu', '--quiet', '--out', join(dir, out));

    const first = await classify('a.npy');
    expect(first.code, first.stderr).toBe(0);
    expectClose(readNpy(join(dir, 'a.npy')), LOGITS, 1e-4, 'logits through a downloaded file');

    await server.stop();
    const offline = await classify('b.npy');
    expect(offline.code, offline.stderr).toBe(0);
    expectClose(readNpy(join(dir, 'b.npy')), LOGITS, 1e-4, 'logits from the cache');

    // Change the cached copy on disk (same size, one byte, new mtime): refused while the server is gone.
    const [hashDir] = readdirSync(join(cache, 'urls'));
    const cached = join(cache, 'urls', hashDir, 'w.safetensors');
    const bytes = readFileSync(cached);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(cached, bytes);
    const refused = await classify('c.npy');
    failsWith(refused, /cached weights changed on disk since they were verified/);
    expect(refused.stderr).toContain(cached);
    expect(existsSync(join(dir, 'c.npy'))).toBe(false);

    await server.start();
    const before = server.requests.length;
    const refetched = await classify('d.npy');
    expect(refetched.code, refetched.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThan(before);
    expectClose(readNpy(join(dir, 'd.npy')), LOGITS, 1e-4, 'logits after the re-fetch');
    expect(readFileSync(cached).equals(WEIGHTS)).toBe(true);
  });

  it('refuse a body cut off half-way: nothing cached, no output', async () => {
    const cache = join(dir, 'cache-cut');
    const r = await cliWithEnv({ RESNET50_CACHE: cache }, 'embed', X2, '--weights', `${server.url}/cut.safetensors`, '--device', 'cpu', '--out', join(dir, 'cut.npy'));
    failsWith(r, new RegExp(`cut\\.safetensors: connection closed after \\d+ of ${WEIGHTS.length} bytes`));
    expect(existsSync(join(dir, 'cut.npy'))).toBe(false);
    const files = readdirSync(join(cache, 'urls'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('cut.safetensors'))).toEqual([]); // only the .part remains
  });

  it('resume a dropped connection with an HTTP Range request', async () => {
    const before = server.requests.length;
    const r = await cliWithEnv({ RESNET50_CACHE: join(dir, 'cache-resume') }, 'classify', X2, '--weights', `${server.url}/cut-once.safetensors`, '--device', 'cpu', '--quiet', '--out', join(dir, 'resumed.npy'));
    expect(r.code, r.stderr).toBe(0);
    const tries = server.requests.slice(before).filter((q) => q.path === '/cut-once.safetensors');
    // The server sends half, then drops the connection. Chunks the stream had queued but not yet
    // handed to the reader when the drop arrived are lost with it, so the resume starts at most there.
    expect(tries.map((q) => q.range?.replace(/\d+/, 'N') ?? null)).toEqual([null, 'bytes=N-']);
    const resumedAt = Number(/\d+/.exec(tries[1].range!)![0]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(WEIGHTS.length >> 1);
    expectClose(readNpy(join(dir, 'resumed.npy')), LOGITS, 1e-4, 'logits through a resumed download');
  });

  it('follow a redirect; a 404, a redirect loop and a wrong --sha256 are one line each, nothing cached', async () => {
    const cache = join(dir, 'cache-errors');
    const env = { RESNET50_CACHE: cache };
    const moved = await cliWithEnv(env, 'embed', X2, '--weights', `${server.url}/moved.safetensors`, '--device', 'cpu', '--quiet');
    expect(moved.code, moved.stderr).toBe(0);
    const out = join(dir, 'never.npy');
    const embed = (...args: string[]) => cliWithEnv(env, 'embed', X2, '--device', 'cpu', '--out', out, ...args);
    failsWith(await embed('--weights', `${server.url}/gone.safetensors`), /gone\.safetensors: HTTP 404/);
    failsWith(await embed('--weights', `${server.url}/loop.safetensors`), /loop\.safetensors: more than 5 redirects/);
    const wrong = 'ab'.repeat(32);
    failsWith(await embed('--weights', `${server.url}/w.safetensors`, '--sha256', wrong), new RegExp(`does not verify \\(SHA-256 [0-9a-f]{64}, expected ${wrong}\\); nothing was cached`));
    failsWith(await embed('--weights', `${server.url}/w.safetensors`, '--sha256', 'xyz'), /--sha256: expected 64 hex digits/);
    const closed = await startTestServer({});
    await closed.stop(); // a port nothing listens on
    failsWith(await embed('--weights', `${closed.url}/w.safetensors`), new RegExp(`cannot download ${closed.url}/w\\.safetensors: ECONNREFUSED`));
    expect(existsSync(out)).toBe(false);
    const complete = readdirSync(join(cache, 'urls'), { recursive: true }).map(String).filter((f) => f.endsWith('.safetensors'));
    expect(complete).toEqual([expect.stringMatching(/moved\.safetensors$/)]);
  });

  it('RESNET50_OFFLINE=1 uses the cache only', async () => {
    const env = { RESNET50_CACHE: join(dir, 'cache-offline'), RESNET50_OFFLINE: '1' };
    failsWith(await cliWithEnv(env, 'embed', X2, '--weights', `${server.url}/w.safetensors`), /not in the weights cache .* RESNET50_OFFLINE=1 forbids downloading it/);
    // No --weights: embed's default is the Microsoft Vision Model.
    failsWith(await cliWithEnv(env, 'embed', X2), /^resnet50: msvision: not in the weights cache/);
  });
});

describe('named weights', () => {
  it('carry their official URLs, hashes and presets', () => {
    expect(Object.fromEntries(Object.values(NAMED_WEIGHTS).map((w) => [w.name, [w.url, w.sha256Prefix ?? w.sha256 ?? null, w.preset]]))).toEqual({
      'torchvision-v1': ['https://download.pytorch.org/models/resnet50-0676ba61.pth', '0676ba61', 'torchvision'],
      'torchvision-v2': ['https://download.pytorch.org/models/resnet50-11ad3fa6.pth', '11ad3fa6', 'torchvision'],
      msvision: ['https://argusvision.blob.core.windows.net/microsoftvision/MicrosoftVision.ResNet50.tar', null, 'msvision'],
      'clip-rn50': [
        'https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt',
        'afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762',
        'clip',
      ],
      'bit-m-r50x1': ['https://storage.googleapis.com/bit_models/BiT-M-R50x1.npz', null, 'bit'],
    });
  });

  it('clip-rn50 is checked against its full SHA-256 (the folder name of its URL): a stand-in is refused, nothing cached', async () => {
    server.routes.set('/mirror/RN50.pt', { body: readFileSync(join(ARCH, 'clip_rn50_div16.pt')) });
    const cache = join(dir, 'cache-clip');
    const env = { RESNET50_CACHE: cache, RESNET50_WEIGHTS_MIRROR: `${server.url}/mirror` };
    failsWith(await cliWithEnv(env, 'embed', join(ARCH, 'clip_rn50_div16.input.npy'), '--weights', 'clip-rn50', '--device', 'cpu'), /RN50\.pt: the download does not verify \(SHA-256 [0-9a-f]{64}, expected afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762\)/);
    expect(existsSync(join(cache, 'RN50.pt'))).toBe(false);
  });

  it('bit-m-r50x1 (no published hash, recorded at first download) loads by name with the bit preset, CLI and library', async () => {
    server.routes.set('/mirror/BiT-M-R50x1.npz', { body: readFileSync(join(ARCH, 'bit_r50x1_div16.npz')) });
    const env = { RESNET50_CACHE: join(dir, 'cache-bit'), RESNET50_WEIGHTS_MIRROR: `${server.url}/mirror` };
    const out = join(dir, 'bit-named.npy');
    const r = await cliWithEnv(env, 'embed', join(ARCH, 'bit_r50x1_div16.input.npy'), '--weights', 'bit-m-r50x1', '--device', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expectClose(readNpy(out), readNpy(join(ARCH, 'bit_r50x1_div16.features.npy')), 1e-4, 'BiT features by name');
    expect(existsSync(join(env.RESNET50_CACHE, 'BiT-M-R50x1.npz'))).toBe(true);
    Object.assign(process.env, env);
    try {
      const model = await ResNet50.load('bit-m-r50x1', { device: 'cpu' });
      expect([model.arch, model.preset, model.featureDim, model.numClasses]).toEqual(['bit-r50x1', 'bit', 128, 10]);
      model.dispose();
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  });

  it("are fetched from RESNET50_WEIGHTS_MIRROR by file name and checked against torchvision's hash prefix", async () => {
    server.routes.set('/mirror/resnet50-11ad3fa6.pth', { body: WEIGHTS });
    server.routes.set('/mirror/resnet50-0676ba61.pth', { body: WEIGHTS });
    const cache = join(dir, 'cache-mirror');
    const env = { RESNET50_CACHE: cache, RESNET50_WEIGHTS_MIRROR: `${server.url}/mirror/` };
    // classify's default is torchvision-v2; the file served is not the real one, so it must not verify.
    failsWith(await cliWithEnv(env, 'classify', X2, '--device', 'cpu'), /resnet50-11ad3fa6\.pth: the download does not verify \(SHA-256 [0-9a-f]{64} does not start with 11ad3fa6\)/);
    failsWith(await cliWithEnv(env, 'classify', X2, '--weights', 'torchvision-v1', '--device', 'cpu'), /resnet50-0676ba61\.pth: .*does not start with 0676ba61/);
    expect(server.requests.map((q) => q.path)).toEqual(expect.arrayContaining(['/mirror/resnet50-11ad3fa6.pth', '/mirror/resnet50-0676ba61.pth']));
    expect(existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.pth')) : []).toEqual([]);
  });

  describe('msvision: a checkpoint laid out like MicrosoftVision.ResNet50.tar', () => {
    let made: string;
    let env: Record<string, string>;
    beforeAll(() => {
      made = join(dir, 'msvision');
      execFileSync('/usr/bin/python3', [join(import.meta.dirname, '..', 'scripts', 'make_msvision_checkpoint.py'), made]);
      server.routes.set('/mirror/MicrosoftVision.ResNet50.tar', { body: readFileSync(join(made, 'MicrosoftVision.ResNet50.tar')) });
      env = { RESNET50_CACHE: join(dir, 'cache-msvision'), RESNET50_WEIGHTS_MIRROR: `${server.url}/mirror` };
    });

    it('loads by name as a 2048-d embedder with its extra keys reported (library)', async () => {
      Object.assign(process.env, env);
      const notices: string[] = [];
      let last = { loaded: 0, total: null as number | null };
      try {
        const model = await ResNet50.load('msvision', { device: 'cpu', onNotice: (m) => notices.push(m), onProgress: (p) => (last = p) });
        expect([model.featureDim, model.numClasses, model.preset]).toEqual([2048, null, 'msvision']);
        expect(last.total).toBe(last.loaded);
        expect(notices).toHaveLength(1);
        expect(notices[0]).toMatch(/ignored 3 tensors outside ResNet-50: heads\.tagging\.weight, heads\.tagging\.bias, heads\.detection\.0\.weight/);
        const x = readNpy(join(made, 'input.npy'));
        expectClose(await model.embed(new Tensor(x.shape, x.data)), readNpy(join(made, 'features.npy')), 1e-4, 'msvision features');
        model.dispose();
      } finally {
        for (const k of Object.keys(env)) delete process.env[k];
      }
    });

    it("is embed's default (CLI), with the notice on stderr", async () => {
      const out = join(dir, 'msv.npy');
      const r = await cliWithEnv(env, 'embed', join(made, 'input.npy'), '--device', 'cpu', '--quiet', '--out', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ignored 3 tensors outside ResNet-50/);
      expectClose(readNpy(out), readNpy(join(made, 'features.npy')), 1e-4, 'msvision features (CLI)');
    });
  });
});
