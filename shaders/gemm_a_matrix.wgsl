// gemm_a_matrix.wgsl: gemm_wg's A operand for a plain GEMM (kernel 'gemm_wg': 1×1 stride-1 convs and
// the fc layer): A [M, K] stored as S4 [M, K4], row-major. The caller guarantees m < M and k4 < K4.
// Buffers: A and Params, as gemm_io.wgsl declares them. Tiling: gemm_wg's (this is a function of it,
// called per staged element; no workgroup of its own).

fn load_a(m: u32, k4: u32) -> vec4<f32> {
  return load4(A[m * p.K4 + k4]);
}
