// The browser entry: everything in src/index.ts (WebGPU comes from navigator.gpu; weights as bytes or
// a URL), plus decoding image files with the browser's decoder and drawing a preprocessed tensor.
//
//   import { ResNet50, decodeImageInBrowser } from 'resnet50-webgpu/browser';
//   const model = await ResNet50.load(new Uint8Array(await file.arrayBuffer()));
//   const { top } = await model.classify(await decodeImageInBrowser(imageFile));
export * from './index.ts';
export { decodeImageInBrowser, rgbaToRgb, tensorToRgba } from './platform/browser.ts';
export { runSelfTest, formatResult, type SelfTestReport, type CaseResult } from './platform/selftest.ts';
export { adapterLabel } from './platform/selftest.ts';
