// gemm_sg.wgsl: C = act(A · B + bias [+ R]), the same contract and buffer layouts as gemm.wgsl, for
// CPU adapters with 8-wide subgroups (lavapipe on AVX2). There a workgroup of 8 invocations is one
// subgroup run as 8 SIMD lanes, and every storage load whose address varies by lane costs a scalar
// load per lane and per 32-bit word (with a bounds check each). So the lanes share B: each lane loads
// 1/8 of the workgroup's B vec4s for the current 4 k-values and subgroupBroadcast hands them to all
// lanes, cutting B loads 8-fold; only A (different rows per lane) is loaded per lane.
//
// Buffers: A, B, bias, R, C and the flags as in gemm_io.wgsl (appended to this kernel, with the
// Params and the write-out). B's column panels here are TN4 vec4s wide (one per workgroup):
// [N4p / TN4, K, TN4], N4p = N/4 rounded up to a multiple of TN4.
//
// Tiling: a workgroup is one subgroup of 8 invocations (x along M); each invocation computes TM rows
// × 4·TN4 columns in f32 registers, so a workgroup covers (8·TM) × (4·TN4) outputs. TN4 must be even
// (the 4·TN4 B vec4s per k-step are spread over the 8 lanes). Rows past M are clamped on load and
// skipped on store; columns past N are zero in B and not stored. Control flow is uniform through the
// main loop (subgroupBroadcast needs every lane active). Workgroups are numbered linearly,
// g = wid.x + wid.y · num_workgroups.x, tile g = (g mod tilesN, g / tilesN).
//
// The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and TM, TN4 (u32 constants), and
// enables subgroups where the implementation wants it.

const NQ = TN4 / 2u; // B vec4s each lane loads per k-step: 4·TN4 / 8

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wid.x + wid.y * nwg.x;
  let tn = g % p.tilesN;
  let tm = g / p.tilesN;
  if (tm >= p.tilesM) { return; }
  let lane = lid.x;
  let row0 = (tm * 8u + lane) * TM;
  let col0 = tn * TN4;
  let N4 = p.N4;
  let K4 = p.K4;

  var aRow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { aRow[i] = min(row0 + i, p.M - 1u) * K4; }
  // This workgroup's panel: [K][TN4] vec4s; per k-step the 4·TN4 vec4s at kb .. kb + 4·TN4.
  // Lane l loads vec4s l, l + 8, ..., l + 8·(NQ − 1) of them.
  let bLane = tn * K4 * 4u * TN4 + lane;

  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var k4 = 0u; k4 < K4; k4++) {
    let kb = bLane + k4 * 4u * TN4;
    var b: array<vec4<f32>, 4u * TN4>; // b[kk·TN4 + j] = B row 4·k4 + kk, vec4 column j
    for (var q = 0u; q < NQ; q++) {
      let mine = load4(B[kb + q * 8u]);
      b[q * 8u + 0u] = subgroupBroadcast(mine, 0u);
      b[q * 8u + 1u] = subgroupBroadcast(mine, 1u);
      b[q * 8u + 2u] = subgroupBroadcast(mine, 2u);
      b[q * 8u + 3u] = subgroupBroadcast(mine, 3u);
      b[q * 8u + 4u] = subgroupBroadcast(mine, 4u);
      b[q * 8u + 5u] = subgroupBroadcast(mine, 5u);
      b[q * 8u + 6u] = subgroupBroadcast(mine, 6u);
      b[q * 8u + 7u] = subgroupBroadcast(mine, 7u);
    }
    for (var i = 0u; i < TM; i++) {
      let a = load4(A[aRow[i] + k4]);
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] = fma(vec4<f32>(a.x), b[j], fma(vec4<f32>(a.y), b[TN4 + j],
                    fma(vec4<f32>(a.z), b[2u * TN4 + j], fma(vec4<f32>(a.w), b[3u * TN4 + j], acc[i][j]))));
      }
    }
  }

  write_tile(&acc, row0, 1u, col0);
}
