// Peers side by side: ONNX Runtime Node (CPU EP, the native yardstick), our WebGPU engine, TF.js WebGPU
// and ONNX Runtime Web WebGPU, the WebGPU ones on the same Dawn adapter (npm `webgpu`), all with the
// same seeded ResNet-50 (randomStateDict(RESNET50, seed) → safetensors → scripts/export_onnx.py → ONNX)
// and the same input. Each peer runs in its own process: cold = session creation + first run, then
// --runs warm runs (median, min, max). At the first run its logits are compared with our CPU reference
// (runCpu(randomResNet(RESNET50, seed), x)): max-abs and max-abs / max |reference|.
//
//   npx tsx bench/peers/run.ts [--peers ort-node,ours,tfjs,ort-web] [--batch 1] [--size 224 | --height H --width W]
//                              [--runs 3] [--json out.json] [--seed 1] [--no-check] [--tol 1e-4] [--timeout 1200]
//                              [--fresh-shader-cache]
//
// Lavapipe compiles each new pipeline with LLVM on its first dispatch and keeps the result in Mesa's
// on-disk shader cache, so "cold" means a process's first run with whatever that cache already holds;
// --fresh-shader-cache gives each peer an empty cache (MESA_SHADER_CACHE_DIR in a temporary folder):
// a first launch on a new machine.
//
// Artifacts (weights, ONNX export, cached reference logits) are made on demand under bench/out/peers/
// (git-ignored). Env: ORT_NODE_THREADS, ORT_WEB_THREADS (default 1), OURS_PRECISION (f32 | f16).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { benchScriptArgs } from '../child.ts';
import {
  ensureArtifacts,
  INPUT_SEED,
  OUT_DIR,
  PEER_FORMAT,
  PEERS,
  referenceLogits,
  ROOT,
  type PeerId,
  type PeerResult,
} from './common.ts';

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: PEERS.join(',') },
    batch: { type: 'string', default: '1' },
    size: { type: 'string' },
    height: { type: 'string' },
    width: { type: 'string' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'no-check': { type: 'boolean', default: false },
    tol: { type: 'string', default: '1e-4' },
    timeout: { type: 'string', default: '1200' },
    'fresh-shader-cache': { type: 'boolean', default: false },
  },
});

const int = (name: string, s: string | undefined, min: number): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${s}`);
  return n;
};
const batch = int('batch', values.batch, 1);
const height = int('height', values.height ?? values.size ?? '224', 32);
const width = int('width', values.width ?? values.size ?? '224', 32);
const runs = int('runs', values.runs, 0);
const seed = int('seed', values.seed, 0);
const timeoutS = int('timeout', values.timeout, 1);
const tol = Number(values.tol);
const check = !values['no-check'];
const freshShaderCache = values['fresh-shader-cache']!;
const peers = values.peers!.split(',').map((p) => p.trim()) as PeerId[];
for (const p of peers) if (!PEERS.includes(p)) throw new Error(`unknown peer '${p}' (known: ${PEERS.join(', ')})`);

const command = `npx tsx ${relative(ROOT, process.argv[1])} ${process.argv.slice(2).join(' ')}`.trim();
console.log(`command: ${command}`);
console.log(
  `node ${process.version}; CPU ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}; ` +
    `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
console.log(`shader cache: ${freshShaderCache ? 'empty per peer (--fresh-shader-cache)' : "Mesa's on-disk cache as it is"}`);
console.log(`model: ResNet-50, weights randomStateDict(RESNET50, ${seed}); input randomInput([${batch}, 3, ${height}, ${width}], ${INPUT_SEED})`);

const log = (s: string) => console.log(s);
const files = ensureArtifacts(seed, { onnx: peers.some((p) => PEER_FORMAT[p] === 'onnx') }, log);

let reference: { path: string; ms: number | null } | null = null;
if (check) {
  reference = referenceLogits(seed, files.weights, [batch, 3, height, width]);
  console.log(
    `reference: our CPU backend (runCpu), ${reference.ms === null ? 'cached' : `${(reference.ms / 1000).toFixed(1)} s`} → ${relative(ROOT, reference.path)}`,
  );
}

function runPeer(peer: PeerId): Promise<PeerResult> {
  const resultPath = join(OUT_DIR, `result_${peer}_${process.pid}.json`);
  mkdirSync(OUT_DIR, { recursive: true });
  rmSync(resultPath, { force: true });
  const args = [
    ...benchScriptArgs('peers/run-one'),
    '--peer', peer,
    '--weights', PEER_FORMAT[peer] === 'onnx' ? files.onnx : files.weights,
    '--batch', String(batch),
    '--height', String(height),
    '--width', String(width),
    '--runs', String(runs),
    '--result', resultPath,
    ...(reference ? ['--ref', reference.path] : []),
  ];
  const env = { ...process.env };
  const cacheDir = freshShaderCache ? mkdtempSync(join(tmpdir(), `mesa-cache-${peer}-`)) : null;
  if (cacheDir) env.MESA_SHADER_CACHE_DIR = env.__GL_SHADER_DISK_CACHE_PATH = cacheDir; // Mesa's, NVIDIA's
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
      let result: PeerResult = { peer, loadavgAtStart: NaN };
      if (existsSync(resultPath)) {
        result = JSON.parse(readFileSync(resultPath, 'utf8')) as PeerResult;
        rmSync(resultPath, { force: true });
      }
      if (code !== 0 && !result.error) {
        const why = signal === 'SIGKILL' ? `killed after --timeout ${timeoutS} s` : `exited with ${signal ?? `status ${code}`}`;
        result.error = `${why}; last output:\n${output.trim().split('\n').slice(-15).join('\n')}`;
      }
      resolve(result);
    });
  });
}

/** The --json report with the peers run so far (written after each one, so a killed run keeps them). */
function saveReport(): void {
  if (!values.json) return;
  const report = {
    command,
    date: new Date().toISOString(),
    node: process.version,
    cpu: { model: cpus()[0]?.model, cores: availableParallelism() },
    model: { arch: 'resnet50', weightsSeed: seed, inputSeed: INPUT_SEED, weights: relative(ROOT, files.weights), onnx: relative(ROOT, files.onnx) },
    batch,
    height,
    width,
    runs,
    tol,
    freshShaderCache,
    reference: reference ? { device: 'cpu (runCpu)', ms: reference.ms } : null,
    peers: results,
  };
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const results: PeerResult[] = [];
let failed = false;
for (const peer of peers) {
  console.log(`\n[${peer}] starting (load average ${loadavg()[0].toFixed(2)})`);
  const r = await runPeer(peer);
  results.push(r);
  saveReport();
  if (r.name) console.log(`  ${r.name}: ${r.version}`);
  if (r.adapter) console.log(`  adapter: ${r.adapter}${r.notes ? `; ${r.notes}` : ''}`);
  if (r.createMs !== undefined) console.log(`  create ${s(r.createMs)}, first run ${s(r.firstRunMs)}, cold ${s(r.coldMs)}`);
  if (r.warm) {
    const w = r.warm;
    console.log(`  warm: median ${s(w.medianMs)} (min ${s(w.minMs)}, max ${s(w.maxMs)}) over ${w.runs} runs; ${(w.medianMs / batch).toFixed(0)} ms/image`);
  }
  if (r.check) {
    const ok = r.check.maxRel <= tol && r.check.argmax.join() === r.check.argmaxRef.join();
    if (!ok) failed = true;
    console.log(
      `  vs CPU reference: max-abs ${r.check.maxAbs.toExponential(2)}, max-rel ${r.check.maxRel.toExponential(2)}, ` +
        `argmax ${r.check.argmax.join(',')} (reference ${r.check.argmaxRef.join(',')}) ${ok ? 'ok' : `FAIL (tol ${tol})`}`,
    );
  }
  if (r.error) {
    failed = true;
    console.log(`  ERROR: ${r.error.split('\n').join('\n    ')}`);
  }
}

console.log(`\nbatch ${batch}, ${height}×${width}, f32 unless named; times in seconds (noisy if the load average is above 0)`);
console.log(['peer'.padEnd(20), 'create', 'first', 'cold', 'warm med', 'min', 'max', 'max-rel'].join('\t'));
for (const r of results) {
  const f = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(2));
  console.log(
    [
      (r.name ?? r.peer).padEnd(20),
      f(r.createMs),
      f(r.firstRunMs),
      f(r.coldMs),
      f(r.warm?.medianMs),
      f(r.warm?.minMs),
      f(r.warm?.maxMs),
      r.check ? r.check.maxRel.toExponential(1) : r.error ? 'error' : '—',
    ].join('\t'),
  );
}

if (values.json) {
  saveReport();
  console.log(`\nwrote ${values.json}`);
}
process.exit(failed ? 1 : 0);
