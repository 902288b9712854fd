// gemm_io.wgsl: what gemm, gemm_sg, conv, conv_sg and gemm_wg share (kernelSource appends it to a kernel that
// calls write_tile): their parameters, their bindings, and the write-out
// C = act(acc + bias [+ residual]) of one invocation's tile.
//
// Buffers (row-major, 4 values per element along the last dimension; S4 holds 4 stored values):
//   A    [M, K] as S4 [M, K/4]     activations: M = pixels (N·OH·OW, NHWC order), K = im2col columns,
//                                  k = (ky·KW + kx)·4·C4in + ci; K is a multiple of 4 (channels padded).
//                                  The conv kernels read A as the NHWC input [N, H, W, 4·C4] itself and
//                                  form the im2col rows on the fly.
//   B    [K, N] as S4 panels       weights (folded BatchNorm scale included) in column panels, one per
//                                  workgroup column tile (panel width: see each kernel)
//   bias [N]    as vec4<f32>       folded BatchNorm shift (of this dispatch's N columns)
//   R    [M, ldc] as S4 [M, ldc4]  residual, read when flags bit 1 is set (else a dummy binding)
//   C    [M, ldc] as S4 [M, ldc4]  output, NHWC; this dispatch writes its N columns at vec4 column col4
//                                  of rows ldc4 vec4s long (a linear layer too big for one binding runs as
//                                  column blocks, each its own B, bias and dispatch, into one output;
//                                  otherwise col4 = 0 and ldc4 = N4). R is indexed like C.
//   flags: bit 0 = ReLU, bit 1 = add R, bit 2 = add the residual already in C (in place: the executor
//          writes the output over a residual that dies here; each element is read, then written, by
//          the same invocation; R is then a dummy binding).
// Activations (A, R, C) are all declared read_write, inputs too (never written): they share the plan's
// activation arena buffer, and WebGPU rejects one buffer bound both read-only and writable in a dispatch.
//
// Each invocation writes only its own tile: TM rows row0 + i·rowStep (rowStep 1 for the register-tiled
// kernels, WG_X for gemm_wg) × TN4 vec4 columns from col0 (of this dispatch's N4); rows ≥ M and
// columns ≥ N4 are skipped.

struct Params {
  M: u32,
  K4: u32,
  N4: u32,
  flags: u32,
  tilesN: u32,
  tilesM: u32,
  // The conv kernels' geometry (zero for the plain GEMMs): input H × W × 4·C4, output OH × OW,
  // a KW × KW kernel with stride and padding.
  H: u32,
  W: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  KW: u32,
  stride: u32,
  pad: u32,
  // Where the output columns go: C's element (r, c) of this dispatch is C[r · ldc4 + col4 + c] (vec4s).
  col4: u32,
  ldc4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> A: array<S4>;
@group(0) @binding(2) var<storage, read> B: array<S4>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> R: array<S4>;
@group(0) @binding(5) var<storage, read_write> C: array<S4>;

fn write_tile(acc: ptr<function, array<array<vec4<f32>, TN4>, TM>>, row0: u32, rowStep: u32, col0: u32) {
  let N4 = p.N4;
  let ldc4 = p.ldc4;
  let relu = (p.flags & 1u) != 0u;
  let residual = (p.flags & 2u) != 0u;
  let inPlace = (p.flags & 4u) != 0u;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i * rowStep;
    if (r >= p.M) { break; }
    for (var j = 0u; j < TN4; j++) {
      let c = col0 + j;
      if (c < N4) {
        let o = r * ldc4 + p.col4 + c;
        var v = (*acc)[i][j] + bias[c];
        if (inPlace) { v += load4(C[o]); } else if (residual) { v += load4(R[o]); }
        if (relu) { v = max(v, vec4<f32>(0.0)); }
        C[o] = store4(v);
      }
    }
  }
}
