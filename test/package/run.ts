// The package as a user gets it: `npm pack`, the tarball installed into a fresh project, then
//   1. plain `node` (no tsx, no type stripping) imports 'resnet50-webgpu' and embeds on WebGPU;
//   2. the installed `resnet50` command runs embed and classify;
//   3. Deno imports the package from that project's node_modules and runs a forward;
//   4. a plain HTML page imports dist/resnet50.browser.js (no bundler) in headless Chromium and runs
//      a forward;
//   5. esbuild --bundle --platform=browser bundles `import 'resnet50-webgpu'` as it is;
//   6. the tarball's size and file count are printed and bounded (< 2 MB; no tests, fixtures, bench,
//      demo or scripts).
// Every forward is checked against PyTorch's outputs for the committed small model (≤ 1e-4 relative).
// Exit status 1 on any failure.
//
//   npm run test:package
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { errorStats } from '../../src/tensor/compare.ts';
import { npyToTensor, parseNpy } from '../../src/tensor/npy.ts';
import { CHROMIUM, FLAGS } from '../browser/chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'test/fixtures/resnet50_div8');
const WEIGHTS = join(MODEL, 'weights.safetensors');
const INPUT = join(MODEL, 'input_b2_64x64.npy');
const FEATURES = join(MODEL, 'input_b2_64x64.features.npy');
const LOGITS = join(MODEL, 'input_b2_64x64.logits.npy');
const IMAGE = join(ROOT, 'test/fixtures/images/rgb_q90_400x300.jpg');
const MAX_PACKED_BYTES = 2_000_000;
const MAX_FILES = 250;
const FORBIDDEN = /^(test|bench|demo|scripts|shaders|src|\.ci)\/|fixtures/;
const REQUIRED = ['dist/node.js', 'dist/index.js', 'dist/browser.js', 'dist/deno.js', 'dist/index.d.ts', 'dist/node.d.ts', 'dist/resnet50.browser.js', 'dist/cli/bin.js', 'LICENSE', 'README.md', 'package.json'];

function fail(message: string): never {
  throw new Error(message);
}

function run(cmd: string, args: string[], cwd: string): string {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // nothing registers a TypeScript loader in the consumer
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function checkClose(path: string, expected: string, what: string): void {
  const read = (p: string) => npyToTensor(parseNpy(readFileSync(p), p), p);
  const got = read(path);
  const want = read(expected);
  if (got.shape.join() !== want.shape.join()) fail(`${what}: shape [${got.shape}], expected [${want.shape}]`);
  const e = errorStats(got.data, want.data);
  if (!(e.maxRel <= 1e-4)) fail(`${what}: max-rel ${e.maxRel} vs PyTorch`);
  console.log(`${what}: max-abs ${e.maxAbs.toExponential(2)}, max-rel ${e.maxRel.toExponential(2)} vs PyTorch`);
}

interface PackEntry {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

function pack(into: string): string {
  const [entry] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', into], ROOT).replace(/^[^[]*/, '')) as PackEntry[];
  const paths = entry.files.map((f) => f.path);
  console.log(`tarball ${entry.filename}: ${entry.size} bytes packed (${(entry.size / 2 ** 20).toFixed(2)} MiB), ${entry.unpackedSize} unpacked, ${entry.entryCount} files`);
  if (entry.size > MAX_PACKED_BYTES) fail(`the tarball is ${entry.size} bytes, over ${MAX_PACKED_BYTES}`);
  if (entry.entryCount > MAX_FILES) fail(`the tarball holds ${entry.entryCount} files, over ${MAX_FILES}`);
  const forbidden = paths.filter((p) => FORBIDDEN.test(p));
  if (forbidden.length) fail(`the tarball holds files users do not need: ${forbidden.slice(0, 10).join(', ')}`);
  const missing = REQUIRED.filter((p) => !paths.includes(p));
  if (missing.length) fail(`the tarball lacks ${missing.join(', ')}`);
  return join(into, entry.filename);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

async function browserForward(project: string): Promise<void> {
  const fixture = join(project, 'fixture');
  mkdirSync(fixture);
  copyFileSync(WEIGHTS, join(fixture, 'weights.safetensors'));
  copyFileSync(INPUT, join(fixture, 'input.npy'));
  copyFileSync(FEATURES, join(fixture, 'features.npy'));
  copyFileSync(join(import.meta.dirname, 'page.html'), join(project, 'page.html'));
  const server = createServer((req, res) => {
    const path = normalize(join(project, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(project) || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()} for ${r.url()}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/page.html`);
    await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, { timeout: 180_000 });
    const result = (await page.evaluate(() => (window as { result?: unknown }).result)) as { error?: string; device?: string; maxRel?: number; shape?: number[] };
    if (errors.length) fail(`browser page: ${errors.join('; ')}`);
    if (result.error) fail(`browser page: ${result.error}`);
    if (!(result.maxRel! <= 1e-4)) fail(`browser: features max-rel ${result.maxRel} vs PyTorch`);
    console.log(`browser (Chromium, dist/resnet50.browser.js, no bundler): ${result.device}; features [${result.shape}] max-rel ${result.maxRel!.toExponential(2)} vs PyTorch`);
  } finally {
    await browser.close();
    server.close();
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'resnet50-package-'));
  try {
    const tarball = pack(tmp);
    const project = join(tmp, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
    if (existsSync(join(project, 'node_modules/tsx'))) fail('installing the package brought in tsx');
    for (const f of ['consumer-node.mjs', 'consumer-deno.mjs']) copyFileSync(join(import.meta.dirname, f), join(project, f));

    // 1. plain node
    process.stdout.write(run(process.execPath, ['consumer-node.mjs', WEIGHTS, INPUT, FEATURES, IMAGE], project));
    // 2. the installed command
    const bin = join(project, 'node_modules/.bin/resnet50');
    run(bin, ['embed', INPUT, '--weights', WEIGHTS, '--quiet', '--out', join(tmp, 'features.npy')], project);
    checkClose(join(tmp, 'features.npy'), FEATURES, 'installed `resnet50 embed`');
    const top = run(bin, ['classify', INPUT, '--weights', WEIGHTS, '--top', '3', '--quiet', '--out', join(tmp, 'logits.npy')], project);
    checkClose(join(tmp, 'logits.npy'), LOGITS, 'installed `resnet50 classify`');
    if (!/class \d/.test(top)) fail(`classify printed no top-3: ${top}`);
    // 3. Deno, from the project's node_modules
    const deno = join(ROOT, 'node_modules/.bin/deno');
    process.stdout.write(run(deno, ['run', '--quiet', '--allow-read', '--allow-env', '--node-modules-dir=manual', 'consumer-deno.mjs', WEIGHTS, INPUT, FEATURES], project));
    // 4. a browser page, no bundler; and the "browser" condition bundles as it is (no Node built-in,
    // no native package reached)
    await browserForward(project);
    writeFileSync(join(project, 'app.js'), "import { ResNet50 } from 'resnet50-webgpu';\nconsole.log(ResNet50.name);\n");
    run(join(ROOT, 'node_modules/.bin/esbuild'), ['app.js', '--bundle', '--platform=browser', '--format=esm', '--log-level=warning', `--outfile=${join(tmp, 'app.bundle.js')}`], project);
    console.log(`esbuild --bundle --platform=browser of import 'resnet50-webgpu': ${readFileSync(join(tmp, 'app.bundle.js')).length} bytes`);
    console.log('package test: 6 passed, 0 failed');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`package test failed: ${(e as Error).message}`);
  process.exit(1);
});
