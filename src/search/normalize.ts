// L2 normalisation of the rows of a row-major [rows, dim] float32 matrix.

/**
 * Each row divided by its Euclidean norm (accumulated in double precision). A row of zeros (or one
 * whose norm is not finite and positive) stays as it is, so it scores 0 against everything.
 * Writes into `out` (default: a new array; may be `data` itself for in-place normalisation).
 */
export function l2Normalize(data: Float32Array, rows: number, dim: number, out: Float32Array = new Float32Array(data.length)): Float32Array {
  if (!Number.isInteger(rows) || !Number.isInteger(dim) || rows < 0 || dim < 0 || data.length !== rows * dim) {
    throw new Error(`l2Normalize: a [${rows}, ${dim}] matrix needs ${rows * dim} values, got ${data.length}`);
  }
  if (out.length !== data.length) throw new Error(`l2Normalize: output holds ${out.length} values, expected ${data.length}`);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += data[base + j] * data[base + j];
    const norm = Math.sqrt(sum);
    const scale = norm > 0 && Number.isFinite(norm) ? 1 / norm : 1;
    for (let j = 0; j < dim; j++) out[base + j] = data[base + j] * scale;
  }
  return out;
}
