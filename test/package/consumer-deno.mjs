// Run by test/package/run.ts with `deno run` inside the consumer project: the package resolved from
// its node_modules through the "deno" export condition (Deno.readFile, navigator.gpu = wgpu), one
// forward against PyTorch's features. argv: weights, input .npy, features .npy.
import { npyToTensor, parseNpy, ResNet50 } from 'resnet50-webgpu';

const [weights, input, expected] = Deno.args;
const npy = async (path) => npyToTensor(parseNpy(await Deno.readFile(path), path), path);
const model = await ResNet50.load(weights);
const features = await model.embed(await npy(input));
const want = await npy(expected);
let maxAbs = 0;
let scale = 0;
for (let i = 0; i < want.data.length; i++) {
  maxAbs = Math.max(maxAbs, Math.abs(features.data[i] - want.data[i]));
  scale = Math.max(scale, Math.abs(want.data[i]));
}
model.dispose();
if (!(maxAbs <= 1e-4 * scale)) throw new Error(`deno: features differ from PyTorch's: max-abs ${maxAbs}`);
console.log(`deno: ${model.device}; features max-rel ${(maxAbs / scale).toExponential(2)}`);
