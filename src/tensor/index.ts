export * from './tensor.ts';
export * from './layout.ts';
export * from './npy.ts';
