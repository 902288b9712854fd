// resnet50-webgpu: the runtime-neutral entry (browsers, Deno, Node). Under Node, import src/node.ts,
// which adds file paths and Dawn's WebGPU.
export { ResNet50, setPlatform, type Classification, type Device, type InputOptions, type LoadOptions, type FetchOptions, type ModelInput, type Platform, type Prediction, type WeightsSource } from './api.ts';
export { preprocess, PRESETS, type Preset } from './image/preprocess.ts';
export type { RgbImage } from './image/image.ts';
export { Tensor } from './tensor/tensor.ts';
export { parseNpy, serializeNpy, npyToTensor, tensorToNpy } from './tensor/npy.ts';
export { readSafetensors, writeSafetensors } from './weights/safetensors.ts';
export { parseWeights, loadWeights, parseWeightsAsync, loadWeightsAsync } from './weights/load.ts';
export { randomResNet } from './nn/random.ts';
export { RESNET50 } from './nn/spec.ts';
export { NAMED_WEIGHTS, type NamedWeights } from './weights/named.ts';
export { IMAGENET_CLASSES } from './nn/imagenet-classes.ts';
export * from './search/index.ts';
