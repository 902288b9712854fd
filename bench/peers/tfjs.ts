// TensorFlow.js with its WebGPU backend (@tensorflow/tfjs-backend-webgpu), in Node on Dawn. The
// ResNet-50 graph is built from tf ops over our safetensors state dict: NHWC activations, HWIO conv
// filters, eval-mode BatchNorm folded into each conv (as TF.js's converter does for a frozen graph),
// tf.fused.conv2d with bias and ReLU, add + ReLU for the residual, maxPool, mean, fused matMul.
import { readFileSync } from 'node:fs';
import type * as TF from '@tensorflow/tfjs-core';
import { buildGraph, RESNET50, type ConvSpec } from '../../src/nn/spec.ts';
import type { TensorArchive } from '../../src/weights/archive.ts';
import { pkgVersion } from '../child.ts';
import { BN_EPS } from '../../src/weights/fold.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';
import type { Peer, PeerOptions } from './common.ts';
import { installDawnGlobals, lastAdapter } from './dawn.ts';

export const format = 'safetensors';

interface TfConv {
  filter: TF.Tensor4D; // [kh, kw, in, out]
  bias: TF.Tensor1D;
  stride: number;
  pad: number;
}

function get(archive: TensorArchive, name: string): Float32Array {
  const t = archive.tensors.get(name);
  if (!t) throw new Error(`${archive.source}: no tensor '${name}'`);
  return t.toFloat32();
}

/** torch [O, I, kh, kw] conv + BN → HWIO filter with the BN scale folded in, and the BN shift as bias. */
function foldedConv(tf: typeof TF, archive: TensorArchive, c: ConvSpec): TfConv {
  const w = get(archive, `${c.conv}.weight`);
  const gamma = get(archive, `${c.bn}.weight`);
  const beta = get(archive, `${c.bn}.bias`);
  const mean = get(archive, `${c.bn}.running_mean`);
  const variance = get(archive, `${c.bn}.running_var`);
  const O = c.outChannels;
  const I = c.inChannels;
  const K = c.kernel;
  const hwio = new Float32Array(O * I * K * K);
  const bias = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    bias[o] = beta[o] - mean[o] * scale;
    for (let i = 0; i < I; i++) {
      for (let ky = 0; ky < K; ky++) {
        for (let kx = 0; kx < K; kx++) {
          hwio[((ky * K + kx) * I + i) * O + o] = w[((o * I + i) * K + ky) * K + kx] * scale;
        }
      }
    }
  }
  return { filter: tf.tensor4d(hwio, [K, K, I, O]), bias: tf.tensor1d(bias), stride: c.stride, pad: c.padding };
}

export async function createPeer(opts: PeerOptions): Promise<Peer> {
  const { batch, height, width } = opts;
  // The backend registers itself at import time only if navigator.gpu exists, so the globals go first
  // and both packages are imported dynamically (their CommonJS Node builds, one tfjs-core instance).
  // A CommonJS module's exports are its `default` (the device bundle's esbuild gives only that).
  installDawnGlobals();
  const tf = ((await import('@tensorflow/tfjs-core')) as unknown as { default: typeof TF }).default;
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialise its webgpu backend');
  await tf.ready();
  tf.enableProdMode();

  const archive = readSafetensors(readFileSync(opts.weightsPath), opts.weightsPath);
  const graph = buildGraph(RESNET50);
  const stem = foldedConv(tf, archive, graph.stem);
  const blocks = graph.blocks.map((b) => ({
    reduce: foldedConv(tf, archive, b.reduce),
    spatial: foldedConv(tf, archive, b.spatial),
    expand: foldedConv(tf, archive, b.expand),
    shortcut: b.shortcut ? foldedConv(tf, archive, b.shortcut) : null,
  }));
  const fcW = get(archive, 'fc.weight'); // [1000, 2048]
  const classes = RESNET50.numClasses!;
  const fcT = new Float32Array(fcW.length);
  for (let k = 0; k < classes; k++) for (let j = 0; j < graph.featureDim; j++) fcT[j * classes + k] = fcW[k * graph.featureDim + j];
  const fcWeight = tf.tensor2d(fcT, [graph.featureDim, classes]);
  const fcBias = tf.tensor1d(get(archive, 'fc.bias'));

  const conv = (x: TF.Tensor4D, c: TfConv, relu: boolean): TF.Tensor4D =>
    tf.fused.conv2d({
      x,
      filter: c.filter,
      strides: c.stride,
      pad: c.pad,
      dataFormat: 'NHWC',
      bias: c.bias,
      activation: relu ? 'relu' : 'linear',
    });

  const forward = (input: Float32Array): TF.Tensor2D =>
    tf.tidy(() => {
      let x = tf.transpose(tf.tensor4d(input, [batch, 3, height, width]), [0, 2, 3, 1]) as TF.Tensor4D;
      x = tf.maxPool(conv(x, stem, true), 3, 2, 1);
      for (const b of blocks) {
        const shortcut = b.shortcut ? conv(x, b.shortcut, false) : x;
        const y = conv(conv(conv(x, b.reduce, true), b.spatial, true), b.expand, false);
        x = tf.relu(tf.add(y, shortcut)) as TF.Tensor4D;
      }
      const features = tf.mean(x, [1, 2]) as TF.Tensor2D;
      return tf.fused.matMul({ a: features, b: fcWeight, bias: fcBias }) as TF.Tensor2D;
    });

  const versions = ['tfjs-core', 'tfjs-backend-webgpu'].map((p) => `@tensorflow/${p} ${pkgVersion(`@tensorflow/${p}`)}`).join(', ');
  const weights = [stem, ...blocks.flatMap((b) => [b.reduce, b.spatial, b.expand, ...(b.shortcut ? [b.shortcut] : [])])];
  return {
    name: 'tfjs-webgpu',
    version: versions,
    adapter: lastAdapter(),
    notes: 'tf.fused.conv2d NHWC, BN folded, prod mode',
    async run(input: Float32Array): Promise<Float32Array> {
      const y = forward(input);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      for (const c of weights) tf.dispose([c.filter, c.bias]);
      tf.dispose([fcWeight, fcBias]);
    },
  };
}
