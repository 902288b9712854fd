// One peer, in its own process (bench/peers/run.ts starts one per peer, so a library's crash, hang on
// exit or leftover GPU state cannot touch the others): create the session, run once (cold), run
// --runs more times (warm), compare the logits with the reference, write a JSON result.
//   tsx bench/peers/run-one.ts --peer tfjs --weights W --batch 1 --height 224 --width 224 --runs 3
//                              [--ref logits.f32] --result out.json
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomInput } from '../../src/nn/random.ts';
import { argmaxRows, compare, INPUT_SEED, PEER_FORMAT, PEERS, type PeerId, type PeerModule, type PeerResult } from './common.ts';

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    weights: { type: 'string' },
    batch: { type: 'string', default: '1' },
    height: { type: 'string', default: '224' },
    width: { type: 'string', default: '224' },
    runs: { type: 'string', default: '3' },
    ref: { type: 'string' },
    result: { type: 'string' },
  },
});

/** Each peer's module, imported by name (so a bundler sees every one). */
const MODULES: Record<PeerId, () => Promise<PeerModule>> = {
  'ort-node': () => import('./ort-node.ts'),
  ours: () => import('./ours.ts'),
  tfjs: () => import('./tfjs.ts'),
  'ort-web': () => import('./ort-web.ts'),
};

const peer = values.peer as PeerId;
if (!PEERS.includes(peer)) throw new Error(`--peer must be one of ${PEERS.join(', ')}, got ${values.peer}`);
if (!values.weights || !values.result) throw new Error('--weights and --result are required');
const batch = Number(values.batch);
const height = Number(values.height);
const width = Number(values.width);
const runs = Number(values.runs);

const result: PeerResult = { peer, loadavgAtStart: loadavg()[0] };
const save = () => writeFileSync(values.result!, JSON.stringify(result, null, 2));
try {
  const mod = await MODULES[peer]();
  if (mod.format !== PEER_FORMAT[peer]) throw new Error(`${peer}: reads ${mod.format}, PEER_FORMAT says ${PEER_FORMAT[peer]}`);
  const input = randomInput([batch, 3, height, width], INPUT_SEED);
  let t = performance.now();
  const p = await mod.createPeer({ weightsPath: values.weights, batch, height, width });
  result.createMs = performance.now() - t;
  Object.assign(result, { name: p.name, version: p.version, adapter: p.adapter, notes: p.notes });
  save();
  t = performance.now();
  const logits = await p.run(input);
  result.firstRunMs = performance.now() - t;
  result.coldMs = result.createMs + result.firstRunMs;
  if (values.ref) {
    const bytes = readFileSync(values.ref);
    const ref = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    result.check = { ...compare(logits, ref), argmax: argmaxRows(logits, batch), argmaxRef: argmaxRows(ref, batch) };
  }
  save();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await p.run(input);
    times.push(performance.now() - t);
  }
  if (runs > 0) {
    const sorted = [...times].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    result.warm = { runs, medianMs, minMs: sorted[0], maxMs: sorted.at(-1)!, timesMs: times };
  }
  await p.dispose();
} catch (e) {
  result.error = (e as Error).stack ?? String(e);
}
save();
// Some libraries keep handles (worker threads, Dawn's instance) that hold the process open.
process.exit(result.error ? 1 : 0);
