// What every weights reader (safetensors, and later .pth) hands to the model loader: named tensors
// whose values are decoded to f32 only when asked for, so a large file is not copied up front.

export interface TensorEntry {
  readonly name: string;
  /** The on-disk element type, in safetensors spelling: F32, F16, BF16, F64, I64, ... */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The values as f32 (a view of the file where the bytes allow, else a decoded copy). */
  toFloat32(): Float32Array;
  /** The values as row-major little-endian bytes of `dtype` (a view where possible). */
  bytes(): Uint8Array;
}

export interface TensorArchive {
  /** Names the file (or '<memory>') in error messages. */
  readonly source: string;
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An archive of tensors already in memory (f32), e.g. generated weights. */
export function memoryArchive(
  tensors: Iterable<readonly [string, { shape: readonly number[]; data: Float32Array }]>,
  source = '<memory>',
): TensorArchive {
  const map = new Map<string, TensorEntry>();
  for (const [name, t] of tensors) {
    const bytes = () => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    map.set(name, { name, dtype: 'F32', shape: t.shape, toFloat32: () => t.data, bytes });
  }
  return { source, tensors: map, metadata: {} };
}
