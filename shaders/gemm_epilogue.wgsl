// gemm_epilogue.wgsl: the write-out shared by gemm, gemm_sg, conv and conv_sg (kernelSource appends
// it to a kernel that calls write_tile): C = act(acc + bias [+ residual]) for one invocation's tile of
// TM rows × TN4 vec4 columns starting at (row0, col0). p.flags: bit 0 = ReLU, bit 1 = add R,
// bit 2 = add C itself (the residual conv writing in place over its residual).
// Buffers (declared by the kernel): bias [N] as vec4<f32>; R and C [M, N] as S4 (vec4 of T), NHWC.
// No workgroup memory: each invocation writes only its own tile; rows ≥ M and columns ≥ N4 are skipped.

fn write_tile(acc: ptr<function, array<array<vec4<f32>, TN4>, TM>>, row0: u32, col0: u32) {
  let N4 = p.N4;
  let relu = (p.flags & 1u) != 0u;
  let residual = (p.flags & 2u) != 0u;
  let inPlace = (p.flags & 4u) != 0u;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < TN4; j++) {
      let c = col0 + j;
      if (c < N4) {
        var v = (*acc)[i][j] + bias[c];
        if (inPlace) { v += load4(C[r * N4 + c]); } else if (residual) { v += load4(R[r * N4 + c]); }
        if (relu) { v = max(v, vec4<f32>(0.0)); }
        C[r * N4 + c] = store4(v);
      }
    }
  }
}
