// gemm_wg.wgsl: C = act(A · B + bias [+ R]) with workgroup-memory tiling, for GPU adapters. One kernel
// for the GEMM and the convs: kernelSource appends the A-operand strategy, load_a(m, k4) → the vec4 of
// A's row m at k-values 4·k4 … 4·k4+3 (gemm_a_matrix.wgsl: A is the matrix itself, kernel 'gemm_wg';
// gemm_a_im2col.wgsl: A is an NHWC input read as implicit im2col with stride and padding, kernel
// 'conv_wg'), then gemm_io.wgsl (Params, bindings, the fused write-out).
//
// Buffers: as in gemm_io.wgsl. B is read in the weight store's column panels of PW vec4s:
// [N4p / PW, K, PW] (PW is the packing's panel width, independent of this kernel's tile).
//
// Tiling: a workgroup of WG_X × WG_Y invocations computes a BM × 4·BN4 output tile (BM = WG_X·TM rows,
// BN4 = WG_Y·TN4 vec4 columns). K is walked in slabs of BK4 vec4s (4·BK4 k-values); each slab of A
// (BM × BK4 vec4s, stored k-major: [BK4][BM], so the compute loop's reads by consecutive invocations are
// consecutive) and of B (4·BK4 × BN4 vec4s) is staged in var<workgroup> memory, as f32. Double
// buffered: while computing slab s from buffer s mod 2, the invocations store slab s+1 into the other
// buffer, so each slab needs one barrier. Each invocation accumulates TM rows (strided by WG_X: rows
// lid.x + i·WG_X) × TN4 contiguous vec4 columns in f32 registers.
// Bounds: rows ≥ M and k-values ≥ K are staged as zero (A) and columns ≥ N4 as zero (B); the write-out
// skips rows ≥ M and columns ≥ N4. Control flow around the barriers is uniform (workgroup-uniform
// values only). Workgroups are numbered linearly, tile g = (g mod tilesN, g / tilesN).
//
// The generated preamble defines S4, load4 / store4 and TM, TN4, WG_X, WG_Y, BK4, PW (u32 constants).

const BM = WG_X * TM;
const BN4 = WG_Y * TN4;
const BK = 4u * BK4;
const THREADS = WG_X * WG_Y;
const A_SLAB = BM * BK4;
const B_SLAB = BK * BN4;

var<workgroup> As: array<vec4<f32>, 2u * A_SLAB>;
var<workgroup> Bs: array<vec4<f32>, 2u * B_SLAB>;

/** B's vec4 at k-value k, vec4 column n4 (zero past K or N4). */
fn load_b(k: u32, n4: u32) -> vec4<f32> {
  if (k >= 4u * p.K4 || n4 >= p.N4) { return vec4<f32>(0.0); }
  return load4(B[(n4 / PW) * p.K4 * 4u * PW + k * PW + n4 % PW]);
}

/** Stores slab `slab` of A and B into buffer `buf`; invocation `tid` takes every THREADS-th element. */
fn stage(buf: u32, slab: u32, tid: u32, rowBase: u32, colBase: u32) {
  let k40 = slab * BK4;
  // A: consecutive invocations read consecutive k4 of a row (contiguous in memory for a plain matrix).
  for (var e = tid; e < A_SLAB; e += THREADS) {
    let r = e / BK4;
    let kq = e % BK4;
    let m = rowBase + r;
    let k4 = k40 + kq;
    var v = vec4<f32>(0.0);
    if (m < p.M && k4 < p.K4) { v = load_a(m, k4); }
    As[buf * A_SLAB + kq * BM + r] = v;
  }
  // B: consecutive invocations read consecutive vec4 columns of one k row.
  for (var e = tid; e < B_SLAB; e += THREADS) {
    let kk = e / BN4;
    let c = e % BN4;
    Bs[buf * B_SLAB + kk * BN4 + c] = load_b(4u * k40 + kk, colBase + c);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let tn = g % p.tilesN;
  let tm = g / p.tilesN;
  if (tm >= p.tilesM) { return; }
  let rowBase = tm * BM;
  let colBase = tn * BN4;
  let slabs = (p.K4 + BK4 - 1u) / BK4;

  stage(0u, 0u, tid, rowBase, colBase);
  workgroupBarrier();
  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var s = 0u; s < slabs; s++) {
    let cur = s % 2u;
    if (s + 1u < slabs) { stage(1u - cur, s + 1u, tid, rowBase, colBase); }
    let ab = cur * A_SLAB + lid.x;
    let bb = cur * B_SLAB + lid.y * TN4;
    for (var kq = 0u; kq < BK4; kq++) {
      var a: array<vec4<f32>, TM>;
      for (var i = 0u; i < TM; i++) { a[i] = As[ab + kq * BM + i * WG_X]; }
      for (var kk = 0u; kk < 4u; kk++) {
        var b: array<vec4<f32>, TN4>;
        for (var j = 0u; j < TN4; j++) { b[j] = Bs[bb + (4u * kq + kk) * BN4 + j]; }
        for (var i = 0u; i < TM; i++) {
          let av = vec4<f32>(a[i][kk]);
          for (var j = 0u; j < TN4; j++) { acc[i][j] = fma(av, b[j], acc[i][j]); }
        }
      }
    }
    workgroupBarrier();
  }

  write_tile(&acc, rowBase + lid.x, WG_X, colBase + lid.y * TN4);
}
