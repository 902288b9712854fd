// C = A · B (+ C when accumulate), all row-major f32: A is M×K, B is K×N, C is M×N.
//
// The CPU reference's only heavy loop. It is a plain triple loop, reordered and blocked so that a
// JavaScript JIT can run it near memory speed:
//   - i-k-j order: the innermost loop walks a row of B and a row of C contiguously;
//   - four rows of C at a time, so each loaded B element feeds four multiply-adds;
//   - N in blocks of 256 columns, so the four C row segments (4 KiB) stay in L1,
//     and K in blocks of 128, so the B panel (128 KiB) stays in L2.

const ROWS = 4;
const N_BLOCK = 256;
const K_BLOCK = 128;

export function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  accumulate = false,
): void {
  if (a.length < m * k || b.length < k * n || c.length < m * n) {
    throw new Error(`gemm: buffers too small for ${m}×${k} · ${k}×${n}`);
  }
  if (!accumulate) c.fill(0, 0, m * n);
  for (let k0 = 0; k0 < k; k0 += K_BLOCK) {
    const k1 = Math.min(k, k0 + K_BLOCK);
    for (let j0 = 0; j0 < n; j0 += N_BLOCK) {
      const j1 = Math.min(n, j0 + N_BLOCK);
      let i = 0;
      for (; i + ROWS <= m; i += ROWS) fourRows(i, j0, j1, k0, k1, n, k, a, b, c);
      for (; i < m; i++) oneRow(i, j0, j1, k0, k1, n, k, a, b, c);
    }
  }
}

function fourRows(
  i: number, j0: number, j1: number, k0: number, k1: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array,
): void {
  const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
  for (let p = k0; p < k1; p++) {
    const a0 = a[i * k + p], a1 = a[(i + 1) * k + p], a2 = a[(i + 2) * k + p], a3 = a[(i + 3) * k + p];
    const row = p * n;
    for (let j = j0; j < j1; j++) {
      const bv = b[row + j];
      c[c0 + j] += a0 * bv;
      c[c1 + j] += a1 * bv;
      c[c2 + j] += a2 * bv;
      c[c3 + j] += a3 * bv;
    }
  }
}

function oneRow(
  i: number, j0: number, j1: number, k0: number, k1: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array,
): void {
  const ci = i * n;
  for (let p = k0; p < k1; p++) {
    const av = a[i * k + p];
    const row = p * n;
    for (let j = j0; j < j1; j++) c[ci + j] += av * b[row + j];
  }
}
