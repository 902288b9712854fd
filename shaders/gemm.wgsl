// gemm.wgsl: C = act(A · B + bias [+ R]), the portable GEMM. Every conv runs through a GEMM (after
// im2col, or directly on the activation for 1×1 stride-1 convs), and so does the fc layer.
//
// Buffers (row-major, 4 values per element along the last dimension; S4 holds 4 stored values):
//   A    [M, K] as S4 [M, K/4]     activations: M = pixels (N·OH·OW, NHWC order), K = im2col columns,
//                                  k = (ky·KW + kx)·4·C4in + ci; K is a multiple of 4 (channels padded)
//   B    [K, N] as S4 panels       weights (folded BatchNorm scale included) in column panels of
//                                  PW = WG_Y·TN4 elements, one per workgroup column tile:
//                                  [N4p / PW, K, PW], N4p = N/4 rounded up to a multiple of PW (zero
//                                  columns), so a workgroup streams its panel contiguously
//   bias [N]    as vec4<f32>       folded BatchNorm shift
//   R    [M, N] as S4 [M, N/4]     residual, read when flags bit 1 is set (else a dummy binding)
//   C    [M, N] as S4 [M, N/4]     output, NHWC
//   flags: bit 0 = ReLU, bit 1 = add R, bit 2 = add the residual already in C (in place: the executor
//          writes the output over a residual that dies here; each element is read, then written, by
//          the same invocation; R is then a dummy binding).
//
// Tiling: register tiling without workgroup memory (on CPU adapters such as lavapipe, barriers cost
// more than shared tiles save). Each invocation computes TM rows × 4·TN4 columns, accumulating in f32
// registers, reading A and B as vec4 (4 k-values of A per row, 4 columns of B per k). A workgroup is
// WG_X × WG_Y invocations, x along M and y along N, i.e. a (WG_X·TM) × (WG_Y·4·TN4) output tile.
// This is the portable kernel; on adapters with 8-wide subgroups (lavapipe) gemm_sg.wgsl shares the
// B loads across lanes instead.
// Rows past M are clamped on load and skipped on store; columns past N are zero in B and not stored.
// No early return for out-of-range invocations, so control flow stays uniform through the main loop
// (a divergent return would turn every accumulator update into a masked blend on lavapipe).
// Workgroups are numbered linearly, g = wid.x + wid.y · num_workgroups.x (the host folds dispatches
// past 65535 into 2-D), and tile g is (g mod tilesN, g / tilesN): consecutive workgroups share rows of A.
//
// The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and TM, TN4, WG_X, WG_Y (u32 constants).

struct Params {
  M: u32,
  K4: u32,
  N4: u32,
  flags: u32,
  tilesN: u32,
  tilesM: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// Activations are all declared read_write, inputs too (never written here): they share the plan's
// activation arena buffer, and WebGPU rejects one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(1) var<storage, read_write> A: array<S4>;
@group(0) @binding(2) var<storage, read> B: array<S4>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> R: array<S4>;
@group(0) @binding(5) var<storage, read_write> C: array<S4>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.x + wid.y * nwg.x;
  let tn = g % p.tilesN;
  let tm = g / p.tilesN;
  if (tm >= p.tilesM) { return; }
  let row0 = (tm * WG_X + lid.x) * TM;
  let col0 = (tn * WG_Y + lid.y) * TN4;
  let N4 = p.N4;
  let K4 = p.K4;

  var aRow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { aRow[i] = min(row0 + i, p.M - 1u) * K4; }
  const PW = WG_Y * TN4;
  let bBase = tn * K4 * 4u * PW + lid.y * TN4;

  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var k4 = 0u; k4 < K4; k4++) {
    var b: array<array<vec4<f32>, TN4>, 4>;
    let kb = bBase + k4 * 4u * PW;
    for (var kk = 0u; kk < 4u; kk++) {
      for (var j = 0u; j < TN4; j++) { b[kk][j] = load4(B[kb + kk * PW + j]); }
    }
    for (var i = 0u; i < TM; i++) {
      let a = load4(A[aRow[i] + k4]);
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] = fma(vec4<f32>(a.x), b[0][j], fma(vec4<f32>(a.y), b[1][j],
                    fma(vec4<f32>(a.z), b[2][j], fma(vec4<f32>(a.w), b[3][j], acc[i][j]))));
      }
    }
  }

  write_tile(&acc, row0, col0);
}
