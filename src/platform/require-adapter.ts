// A GPU object whose requestAdapter() fails loudly: WebGPU resolves to null when there is no adapter,
// which would otherwise surface later as a confusing error (tests must fail, not skip, without one).

/** `raw` with requestAdapter() throwing `noAdapter` (the runtime's how-to-fix message) instead of resolving to null. */
export function requiringAdapter(raw: GPU, noAdapter: string): GPU {
  return {
    __brand: 'GPU',
    async requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter> {
      const adapter = await raw.requestAdapter(options);
      if (!adapter) throw new Error(noAdapter);
      return adapter;
    },
    getPreferredCanvasFormat: () => raw.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return raw.wgslLanguageFeatures;
    },
  } as GPU;
}
