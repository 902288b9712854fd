// The demo page: pick or drop an image and a weights file (safetensors or .pth), see the preprocessed
// crop, the top-5 labels (or an embedding's norm and plot), the latency and the adapter. Or run a
// seeded, untrained full-size ResNet-50. No framework; the library is imported from its browser entry.
import {
  adapterLabel,
  decodeImageInBrowser,
  loadWeights,
  preprocess,
  randomResNet,
  ResNet50,
  RESNET50,
  rgbaToRgb,
  tensorToRgba,
  type Preset,
  type RgbImage,
  type Tensor,
} from '../src/browser.ts';
import type { DemoResult } from './page-api.ts';

type Precision = 'f32' | 'f16';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  adapter: $<HTMLSpanElement>('adapter').querySelector('span')!,
  drop: $<HTMLDivElement>('drop'),
  imageFile: $<HTMLInputElement>('image-file'),
  weightsFile: $<HTMLInputElement>('weights-file'),
  preset: $<HTMLSelectElement>('preset'),
  precision: $<HTMLSelectElement>('precision'),
  run: $<HTMLButtonElement>('run'),
  runSeeded: $<HTMLButtonElement>('run-seeded'),
  status: $<HTMLParagraphElement>('status'),
  crop: $<HTMLCanvasElement>('crop'),
  cropCaption: $<HTMLElement>('crop-caption'),
  title: $<HTMLHeadingElement>('result-title'),
  modelInfo: $<HTMLParagraphElement>('model-info'),
  top5: $<HTMLOListElement>('top5'),
  embedding: $<HTMLDivElement>('embedding'),
  embeddingNorm: $<HTMLParagraphElement>('embedding-norm'),
  embeddingPlot: $<HTMLCanvasElement>('embedding-plot'),
  tDecode: $<HTMLTableCellElement>('t-decode'),
  tPre: $<HTMLTableCellElement>('t-pre'),
  tLoad: $<HTMLTableCellElement>('t-load'),
  tForward: $<HTMLTableCellElement>('t-forward'),
};

let imageFile: File | null = null;
let weightsFile: File | null = null;
/** The loaded model, kept between runs while its weights and precision stay the same. */
let loaded: { key: string; model: ResNet50; runs: number } | null = null;
let busy = false;

const SEED = 7;
const ms = (t: number) => `${t.toFixed(t < 10 ? 1 : 0)} ms`;

function setStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}

function updateButtons(): void {
  ui.run.disabled = busy || !weightsFile;
  ui.runSeeded.disabled = busy;
  ui.run.textContent = weightsFile ? `Run with ${weightsFile.name}` : 'Run with the chosen weights';
}

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp|avif|ico)$/i;
function takeFiles(files: Iterable<File>): void {
  for (const f of files) {
    if (f.type.startsWith('image/') || IMAGE_EXT.test(f.name)) imageFile = f;
    else weightsFile = f;
  }
  const parts = [imageFile ? `image ${imageFile.name}` : 'no image (a generated picture is used)', weightsFile ? `weights ${weightsFile.name}` : 'no weights file'];
  setStatus(`Chosen: ${parts.join(', ')}.`);
  updateButtons();
}

/** A picture to classify when none was chosen: sky, sun, hills (deterministic). */
function generatedImage(): RgbImage {
  const w = 320;
  const h = 240;
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d')!;
  const sky = g.createLinearGradient(0, 0, 0, h);
  sky.addColorStop(0, '#3b7dd8');
  sky.addColorStop(1, '#bfe0ff');
  g.fillStyle = sky;
  g.fillRect(0, 0, w, h);
  g.fillStyle = '#ffd23f';
  g.beginPath();
  g.arc(240, 70, 34, 0, 2 * Math.PI);
  g.fill();
  g.fillStyle = '#3f8f3a';
  g.beginPath();
  g.moveTo(0, h);
  g.bezierCurveTo(80, 120, 180, 230, 320, 150);
  g.lineTo(320, h);
  g.fill();
  g.fillStyle = '#7a4b26';
  g.fillRect(70, 150, 14, 50);
  g.fillStyle = '#2d6b2a';
  g.beginPath();
  g.arc(77, 140, 28, 0, 2 * Math.PI);
  g.fill();
  return rgbaToRgb(g.getImageData(0, 0, w, h).data, w, h);
}

function drawCrop(t: Tensor, preset: Preset): void {
  const [h, w] = t.shape.slice(-2);
  ui.crop.width = w;
  ui.crop.height = h;
  ui.crop.getContext('2d')!.putImageData(new ImageData(tensorToRgba(t, preset), w, h), 0, 0);
}

function plotEmbedding(v: Float32Array): void {
  const c = ui.embeddingPlot;
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(c.clientWidth * dpr) || 512;
  c.height = Math.round(c.clientHeight * dpr) || 120;
  const g = c.getContext('2d')!;
  g.clearRect(0, 0, c.width, c.height);
  let max = 0;
  let min = 0;
  for (const x of v) {
    max = Math.max(max, Math.abs(x));
    min = Math.min(min, x);
  }
  // Pooled ReLU features are all ≥ 0: then the baseline is the bottom edge.
  const mid = min < 0 ? c.height / 2 : c.height - 1;
  const span = min < 0 ? c.height / 2 : c.height;
  g.strokeStyle = '#c5ccd5';
  g.beginPath();
  g.moveTo(0, mid);
  g.lineTo(c.width, mid);
  g.stroke();
  g.fillStyle = '#2f6fd6';
  const bw = c.width / v.length;
  for (let i = 0; i < v.length; i++) {
    const y = max > 0 ? (v[i] / max) * (span - 2) : 0;
    g.fillRect(i * bw, y > 0 ? mid - y : mid, Math.max(bw, 1), Math.abs(y));
  }
}

async function getModel(key: string, make: () => Promise<ResNet50>): Promise<{ model: ResNet50; first: boolean; loadMs: number | null }> {
  if (loaded?.key === key) return { model: loaded.model, first: false, loadMs: null };
  loaded?.model.dispose();
  loaded = null;
  const t0 = performance.now();
  const model = await make();
  loaded = { key, model, runs: 0 };
  return { model, first: true, loadMs: performance.now() - t0 };
}

async function run(seeded: boolean): Promise<void> {
  if (busy) return;
  busy = true;
  updateButtons();
  window.demoResult = undefined;
  window.demoError = undefined;
  document.body.dataset.state = 'running';
  const preset = ui.preset.value as Preset;
  const precision = ui.precision.value as Precision;
  try {
    // 1. Decode (the browser's decoder) and preprocess (the library's pure-TS code).
    setStatus('Decoding the image…');
    let t0 = performance.now();
    const img = imageFile ? await decodeImageInBrowser(imageFile, preset === 'msvision' ? 'from-image' : 'none') : generatedImage();
    ui.tDecode.textContent = `${ms(performance.now() - t0)} (${img.width}×${img.height}${imageFile ? '' : ', generated'})`;
    t0 = performance.now();
    const x = preprocess(img, preset);
    ui.tPre.textContent = ms(performance.now() - t0);
    drawCrop(x, preset);
    ui.cropCaption.textContent = `The model input: ${preset} preprocessing of ${imageFile ? imageFile.name : 'a generated picture'}, drawn back from the [3, 224, 224] tensor.`;

    // 2. The model: seeded (untrained) or from the weights file, kept while unchanged.
    let weightsName: string;
    let got: Awaited<ReturnType<typeof getModel>>;
    if (seeded) {
      weightsName = `seeded random ResNet-50 (seed ${SEED}, untrained)`;
      setStatus('Generating seeded weights and uploading them to the GPU…');
      got = await getModel(`seeded:${SEED}:${precision}`, async () => ResNet50.fromModel(randomResNet(RESNET50, SEED), { precision }));
    } else {
      const file = weightsFile!;
      weightsName = file.name;
      setStatus(`Reading ${file.name}…`);
      got = await getModel(`file:${file.name}:${file.size}:${file.lastModified}:${precision}`, async () => {
        const bytes = new Uint8Array(await file.arrayBuffer());
        return ResNet50.fromModel(loadWeights(bytes, file.name), { precision });
      });
    }
    const { model, first, loadMs } = got;
    if (loadMs !== null) ui.tLoad.textContent = ms(loadMs);
    else ui.tLoad.textContent = 'cached';

    // 3. Forward.
    setStatus(first ? 'Running (the first run compiles the shaders)…' : 'Running…');
    const classes = model.numClasses;
    t0 = performance.now();
    let top: DemoResult['top'] = null;
    let norm: number | null = null;
    if (classes !== null) {
      const r = await model.classify(x, { top: 5 });
      top = r.top[0];
    } else {
      const f = await model.embed(x, { preset });
      norm = Math.hypot(...f.data);
      plotEmbedding(f.data);
    }
    const forwardMs = performance.now() - t0;
    ui.tForward.textContent = `${ms(forwardMs)}${first ? ' (first run: includes shader compilation)' : ''}`;

    // 4. Show it.
    ui.title.innerHTML = '';
    ui.title.append(classes !== null ? `Top-5 of ${classes} classes` : `Embedding (${model.featureDim}-d)`);
    if (seeded) {
      const u = document.createElement('span');
      u.className = 'untrained';
      u.textContent = ' — untrained seeded weights: labels are meaningless';
      ui.title.append(u);
    }
    ui.modelInfo.textContent = `weights: ${weightsName} · device: ${model.device} · preset: ${preset}`;
    ui.top5.replaceChildren();
    ui.top5.hidden = top === null;
    ui.embedding.hidden = norm === null;
    if (top) {
      for (const p of top) {
        const li = document.createElement('li');
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.max(2, Math.round(p.probability * 160))}px`;
        const prob = document.createElement('span');
        prob.className = 'p';
        prob.textContent = `${(100 * p.probability).toFixed(2)}%`;
        li.append(bar, p.label ?? `class ${p.index}`, prob);
        ui.top5.append(li);
      }
    }
    if (norm !== null) ui.embeddingNorm.textContent = `L2 norm ${norm.toFixed(4)}; the ${model.featureDim} values, scaled to the largest |value|:`;
    window.demoResult = { weights: weightsName, seeded, device: model.device, top, embeddingNorm: norm, forwardMs, firstRun: first };
    setStatus(`Done in ${ms(forwardMs)}.`);
    document.body.dataset.state = 'done';
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    window.demoError = msg;
    setStatus(`Error: ${msg}`, true);
    document.body.dataset.state = 'error';
    console.error(e);
  } finally {
    busy = false;
    updateButtons();
  }
}

async function showAdapter(): Promise<void> {
  const gpu = navigator.gpu;
  if (!gpu) {
    ui.adapter.textContent = 'none: this browser has no WebGPU (navigator.gpu). Try a recent Chrome or Edge, or enable WebGPU.';
    ui.runSeeded.disabled = true;
    return;
  }
  try {
    ui.adapter.textContent = await adapterLabel(gpu);
    const adapter = await gpu.requestAdapter();
    if (!adapter?.features.has('shader-f16')) {
      const f16 = ui.precision.querySelector<HTMLOptionElement>('option[value="f16"]')!;
      f16.disabled = true;
      f16.textContent = 'f16 (unavailable: no shader-f16)';
    }
  } catch (e) {
    ui.adapter.textContent = `error: ${(e as Error).message}`;
  }
}

ui.imageFile.addEventListener('change', () => ui.imageFile.files && takeFiles(ui.imageFile.files));
ui.weightsFile.addEventListener('change', () => ui.weightsFile.files && takeFiles(ui.weightsFile.files));
for (const ev of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(ev, (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
}
for (const ev of ['dragleave', 'drop'] as const) ui.drop.addEventListener(ev, () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  if (e.dataTransfer?.files.length) takeFiles(e.dataTransfer.files);
});
// Dropping anywhere on the page works too, instead of the browser opening the file.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  if (e.target !== ui.drop && e.dataTransfer?.files.length) takeFiles(e.dataTransfer.files);
});
ui.run.addEventListener('click', () => void run(false));
ui.runSeeded.addEventListener('click', () => void run(true));
ui.preset.addEventListener('change', () => setStatus(`Preset: ${ui.preset.value}.`));
updateButtons();
document.body.dataset.state = 'idle';
await showAdapter();
document.body.dataset.ready = 'true';
