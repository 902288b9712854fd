// Image preprocessing, pure TypeScript (no Node imports): the CPU reference for both presets.
export * from './image.ts';
export * from './resize-pil.ts';
export * from './resize-cv.ts';
export * from './preprocess.ts';
