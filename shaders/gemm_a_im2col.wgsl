// gemm_a_im2col.wgsl: gemm_wg's A operand for a conv (kernel 'conv_wg'): implicit im2col of the NHWC
// input A [N, H, W, 4·C4] (S4 [N·H·W, C4]), k4 = (ky·KW + kx)·C4 + c4, output pixel m = (n·OH + oy)·OW
// + ox; taps in the zero padding read as zero. The caller guarantees m < M and k4 < K4.
// Buffers: A and the conv geometry in Params, as gemm_io.wgsl declares them. Tiling: gemm_wg's (this
// is a function of it, called per staged element; no workgroup of its own).

fn load_a(m: u32, k4: u32) -> vec4<f32> {
  let ox = m % p.OW;
  let t = m / p.OW;
  let oy = t % p.OH;
  let n = t / p.OH;
  let tap = k4 / p.C4;
  let c4 = k4 - tap * p.C4;
  let ky = tap / p.KW;
  let kx = tap - ky * p.KW;
  let iy = i32(oy * p.stride + ky) - i32(p.pad);
  let ix = i32(ox * p.stride + kx) - i32(p.pad);
  if (iy < 0 || iy >= i32(p.H) || ix < 0 || ix >= i32(p.W)) { return vec4<f32>(0.0); }
  return load4(A[((n * p.H + u32(iy)) * p.W + u32(ix)) * p.C4 + c4]);
}
