// The browser test: builds the demo with Vite, serves it on 127.0.0.1, and drives Debian's Chromium
// (headless, WebGPU on SwiftShader) with playwright-core:
//   1. test.html: window.runSelfTest() runs the GPU kernel cases and ResNet-50, CLIP RN50 and BiT R50x1
//      forward passes on seeded weights against the CPU reference in the page; every check must be within 1e-4 relative (f32).
//   2. index.html: the demo with the committed small model (.pth) and a JPEG chosen through the file
//      inputs (top-5), the same with an embedding model (norm + plot), then the seeded full-size
//      ResNet-50 button; screenshots in test/browser/artifacts/.
// Any page error, console error, failed request or failed check fails the run (exit status 1).
//
//   npm run test:browser                  (CHROMIUM=/path/to/chromium to use another binary)
//   npm run test:browser -- --quick       without the full ResNet-50 at 224×224 in the self-test
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import type { SelfTestReport } from '../../src/platform/selftest.ts';
import type { DemoResult } from '../../demo/page-api.ts';
import { CHROMIUM, FLAGS } from './chromium.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = join(ROOT, 'demo/vite.config.ts');
const ARTIFACTS = join(ROOT, 'test/browser/artifacts');
const FULL224 = !process.argv.includes('--quick');
const TOL = 1e-4;


const problems: string[] = [];
const t = () => performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function watch(page: Page, name: string): void {
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.stack ?? e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') problems.push(`${name}: console error: ${m.text()}`);
    else if (m.type() === 'warning') console.log(`  [${name} warning] ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`${name}: request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${name}: HTTP ${r.status()} for ${r.url()}`));
  page.on('crash', () => problems.push(`${name}: the page crashed`));
}

function fail(message: string): never {
  throw new Error(message);
}

async function selfTest(browser: Browser, base: string): Promise<SelfTestReport> {
  const page = await browser.newPage();
  watch(page, 'test.html');
  await page.goto(`${base}test.html`);
  await page.waitForFunction(() => window.selfTestReady === true, null, { timeout: 60_000 });
  const t0 = t();
  // Lines are printed as the page logs them.
  page.on('console', (m) => m.type() === 'log' && console.log(`  ${m.text()}`));
  const report = await page.evaluate((full224) => window.runSelfTest({ full224, f16: true }), FULL224);
  console.log(`self-test: ${report.results.length} checks in ${secs(t() - t0)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'selftest.png'), fullPage: false });
  await page.close();
  return report;
}

function checkReport(report: SelfTestReport): void {
  if (report.results.length < 40) fail(`self-test: only ${report.results.length} checks ran`);
  const bad = report.results.filter((r) => !r.ok || r.error || !(r.maxAbs <= r.tol * r.maxExpected) || (r.tol > 0 && r.tol !== TOL && r.tol !== 1e-2));
  if (bad.length || !report.ok) {
    fail(`self-test failed:\n${bad.map((r) => `  ${r.name}: ${r.error ?? `max-abs ${r.maxAbs}, max-rel ${r.maxRel}, tol ${r.tol}`}`).join('\n')}`);
  }
  const names = report.results.map((r) => r.name).join('\n');
  for (const want of ['conv1×1/1', 'conv1×1/2', 'conv3×3/1', 'conv3×3/2', 'conv7×7/2', 'maxpool', 'global avgpool', 'linear', 'reduced ResNet-50', 'ResNet-50 (seed 7) 1×3×64×64 logits', 'CLIP RN50 (/16, 3×3 grid) 2×3×96×96 features', 'BiT R50x1 (/16, 10 classes) 2×3×61×47 logits']) {
    if (!names.includes(want)) fail(`self-test: no check named like '${want}'`);
  }
  const f32 = report.results.filter((r) => r.tol === TOL);
  const worst = f32.reduce((a, r) => (r.maxRel > a.maxRel ? r : a), f32[0]);
  console.log(`self-test OK: ${report.results.length} checks; worst f32 max-rel ${worst.maxRel.toExponential(2)} (${worst.name})`);
}

async function demoRun(page: Page, button: '#run' | '#run-seeded', timeout: number): Promise<DemoResult> {
  await page.click(button);
  await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout });
  const error = await page.evaluate(() => window.demoError);
  if (error) fail(`demo: ${error}`);
  return (await page.evaluate(() => window.demoResult))!;
}

async function demo(browser: Browser, base: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  watch(page, 'index.html');
  await page.goto(`${base}index.html`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60_000 });
  const adapter = await page.textContent('#adapter span');
  console.log(`demo adapter: ${adapter}`);
  if (!adapter || /none|error/.test(adapter)) fail(`demo: no WebGPU adapter (${adapter})`);

  // The seeded full-size ResNet-50 (untrained) on the generated picture (no image chosen yet): twice,
  // for a warm timing.
  const first = await demoRun(page, '#run-seeded', 300_000);
  const warm = await demoRun(page, '#run-seeded', 300_000);
  if (!warm.seeded || !warm.top || warm.top.length !== 5 || !warm.top[0].label) fail(`demo (seeded): expected 5 ImageNet labels, got ${JSON.stringify(warm)}`);
  if (JSON.stringify(first.top) !== JSON.stringify(warm.top)) fail('demo (seeded): two runs disagree');
  const title = await page.textContent('#result-title');
  if (!/untrained/.test(title ?? '')) fail(`demo (seeded): results not labelled untrained: ${title}`);
  console.log(`demo, seeded ResNet-50 224×224: forward ${first.forwardMs.toFixed(0)} ms first (compiles shaders), ${warm.forwardMs.toFixed(0)} ms warm; top-1 '${warm.top[0].label}'`);
  await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });

  // A JPEG and the committed small model (.pth, 10 classes), chosen through the file inputs.
  await page.setInputFiles('#image-file', join(ROOT, 'test/fixtures/images/rgb_q90_400x300.jpg'));
  await page.setInputFiles('#weights-file', join(ROOT, 'test/fixtures/pth/resnet50_div8.pth'));
  let r = await demoRun(page, '#run', 120_000);
  if (!r.top || r.top.length !== 5) fail(`demo (.pth): expected a top-5, got ${JSON.stringify(r)}`);
  const sum = r.top.reduce((a, p) => a + p.probability, 0);
  if (!(sum > 0 && sum <= 1.0001) || r.top.some((p, i) => i > 0 && p.probability > r.top![i - 1].probability)) {
    fail(`demo (.pth): top-5 probabilities are not sorted probabilities: ${JSON.stringify(r.top)}`);
  }
  if ((await page.locator('#top5 li').count()) !== 5) fail('demo (.pth): the page does not list 5 classes');
  await page.screenshot({ path: join(ARTIFACTS, 'demo-pth.png'), fullPage: true });
  console.log(`demo, resnet50_div8.pth + rgb_q90_400x300.jpg: top-1 class ${r.top[0].index} (${(100 * r.top[0].probability).toFixed(1)}%), forward ${r.forwardMs.toFixed(0)} ms, ${r.device}`);

  // An embedding model (no fc) in safetensors, msvision preset: norm and plot.
  await page.selectOption('#preset', 'msvision');
  await page.setInputFiles('#weights-file', join(ROOT, 'test/fixtures/resnet50_div8/weights_nofc.safetensors'));
  r = await demoRun(page, '#run', 120_000);
  if (r.top !== null || !(r.embeddingNorm! > 0)) fail(`demo (embedding): expected a norm, got ${JSON.stringify(r)}`);
  if (await page.locator('#embedding').isHidden()) fail('demo (embedding): the plot is hidden');
  console.log(`demo, weights_nofc.safetensors (msvision): embedding norm ${r.embeddingNorm!.toFixed(4)}, forward ${r.forwardMs.toFixed(0)} ms`);
  await page.screenshot({ path: join(ARTIFACTS, 'demo-embedding.png'), fullPage: true });

  await page.close();
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} not found: install it with 'bash scripts/install-chromium.sh' (Debian: apt-get install -y chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  let t0 = t();
  await build({ configFile: CONFIG, logLevel: 'warn' });
  console.log(`built demo/dist in ${secs(t() - t0)}`);
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') fail('vite preview: no address');
    const base = `http://127.0.0.1:${address.port}/`;
    console.log(`serving ${base}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
    console.log(`Chromium ${browser.version()}`);
    t0 = t();
    const report = await selfTest(browser, base);
    console.log(`adapter: ${report.adapter}; engine: ${report.engine}`);
    for (const timing of report.timings) {
      console.log(`forward ${timing.name}: GPU cold ${timing.coldMs.toFixed(0)} ms, warm ${timing.warmMs.toFixed(0)} ms; CPU reference ${timing.cpuMs.toFixed(0)} ms`);
    }
    checkReport(report);
    await demo(browser, base);
    console.log(`browser checks took ${secs(t() - t0)}; screenshots in ${ARTIFACTS}`);
  } finally {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
  }
  if (problems.length) fail(`errors in the pages:\n${problems.join('\n')}`);
}

// A hung GPU process or page must not hang CI: give up after 20 minutes.
const WATCHDOG_MS = 20 * 60_000;
setTimeout(() => {
  console.error(`browser test: FAILED: no result after ${WATCHDOG_MS / 60_000} minutes`);
  if (problems.length) console.error(problems.join('\n'));
  process.exit(1);
}, WATCHDOG_MS).unref();

main().then(
  () => {
    console.log('browser test: OK');
    process.exit(0);
  },
  (e) => {
    console.error(`browser test: FAILED\n${(e as Error).stack ?? e}`);
    if (problems.length) console.error(problems.join('\n'));
    process.exit(1);
  },
);
