// Run by test/package/run.ts with plain `node` inside a fresh project that installed the packed
// tarball: imports the package by its name, embeds a preprocessed batch and a decoded image on WebGPU
// (Dawn), and checks the features against PyTorch's. argv: weights, input .npy, features .npy, image.
import { readFileSync } from 'node:fs';
import { decodeImageFile, npyToTensor, parseNpy, ResNet50 } from 'resnet50-webgpu';

const [weights, input, expected, image] = process.argv.slice(2);
const npy = (path) => npyToTensor(parseNpy(new Uint8Array(readFileSync(path)), path), path);
const model = await ResNet50.load(weights);
const features = await model.embed(npy(input));
const want = npy(expected);
let maxAbs = 0;
let scale = 0;
for (let i = 0; i < want.data.length; i++) {
  maxAbs = Math.max(maxAbs, Math.abs(features.data[i] - want.data[i]));
  scale = Math.max(scale, Math.abs(want.data[i]));
}
const pixels = await decodeImageFile(image, 'torchvision');
const fromImage = await model.embed(pixels);
model.dispose();
if (features.shape.join() !== want.shape.join() || !(maxAbs <= 1e-4 * scale)) {
  throw new Error(`features differ from PyTorch's: shape [${features.shape}], max-abs ${maxAbs} (scale ${scale})`);
}
if (fromImage.shape.join() !== `1,${model.featureDim}` || !fromImage.data.every(Number.isFinite)) throw new Error(`image embedding: shape [${fromImage.shape}]`);
console.log(`node: ${model.device}; features max-abs ${maxAbs.toExponential(2)} (max-rel ${(maxAbs / scale).toExponential(2)}); image → [${fromImage.shape}]`);
