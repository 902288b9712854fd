// gemm.wgsl: C = act(A · B + bias [+ R]), the portable GEMM. Every conv runs through a GEMM (after
// im2col, or directly on the activation for 1×1 stride-1 convs), and so does the fc layer (in column
// blocks, one dispatch each, when its weights exceed one storage binding: gemm_io.wgsl's col4, ldc4).
//
// Buffers: A, B, bias, R, C and the flags as in gemm_io.wgsl (appended to this kernel, with the
// Params and the write-out). B's column panels here are PW = WG_Y·TN4 vec4s wide: [N4p / PW, K, PW],
// N4p = N/4 rounded up to a multiple of PW (zero columns), so a workgroup streams its panel contiguously.
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

  write_tile(&acc, row0, 1u, col0);
}
