// conv.wgsl: implicit-GEMM convolution, the portable counterpart of conv_sg.wgsl:
// C = act(conv(A, W) + bias [+ R]) as the GEMM of gemm.wgsl with im2col folded into the A loads (no
// column matrix, no scratch buffer, one dispatch). The explicit path (im2col.wgsl + gemm.wgsl) is the
// readable reference and stays selectable.
//
// Buffers: as in gemm_io.wgsl (appended to this kernel, with the Params and the write-out), A being the
// NHWC input [N, H, W, 4·C4] and C the output [N·OH·OW, Nout]; B as for gemm.wgsl (k = (ky·KW + kx)·4·C4
// + ci), in column panels of PW = WG_Y·TN4 vec4s: [N4p / PW, K, PW].
//
// Tiling as gemm.wgsl: register tiles of TM pixels × 4·TN4 channels per invocation, WG_X × WG_Y
// invocations (x along M, y along N), no workgroup memory. The K loop is split into (tap, c4): per tap
// each invocation computes its TM source pixel offsets and padding masks once, then streams C4 vec4s
// per row; taps in the zero padding read pixel 0 and select zero. Rows past M are clamped on load and
// skipped on store; control flow stays uniform through the main loop. Workgroups numbered linearly.
//
// The generated preamble defines S4, load4 / store4 and TM, TN4, WG_X, WG_Y (u32 constants).

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
  let C4 = p.C4;

  var iy0: array<i32, TM>;
  var ix0: array<i32, TM>;
  var img: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let m = min(row0 + i, p.M - 1u);
    let ox = m % p.OW;
    let t = m / p.OW;
    let oy = t % p.OH;
    img[i] = (t / p.OH) * p.H;
    iy0[i] = i32(oy * p.stride) - i32(p.pad);
    ix0[i] = i32(ox * p.stride) - i32(p.pad);
  }
  const PW = WG_Y * TN4;
  let bBase = tn * p.K4 * 4u * PW + lid.y * TN4;

  var acc: array<array<vec4<f32>, TN4>, TM>;
  var k4 = 0u;
  for (var ky = 0u; ky < p.KW; ky++) {
    for (var kx = 0u; kx < p.KW; kx++) {
      var src: array<u32, TM>;
      var ok: array<bool, TM>;
      for (var i = 0u; i < TM; i++) {
        let iy = iy0[i] + i32(ky);
        let ix = ix0[i] + i32(kx);
        ok[i] = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
        src[i] = select(0u, ((img[i] + u32(iy)) * p.W + u32(ix)) * C4, ok[i]);
      }
      for (var c4 = 0u; c4 < C4; c4++) {
        var b: array<array<vec4<f32>, TN4>, 4>;
        let kb = bBase + k4 * 4u * PW;
        for (var kk = 0u; kk < 4u; kk++) {
          for (var j = 0u; j < TN4; j++) { b[kk][j] = load4(B[kb + kk * PW + j]); }
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(vec4<f32>(0.0), load4(A[src[i] + c4]), ok[i]);
          for (var j = 0u; j < TN4; j++) {
            acc[i][j] = fma(vec4<f32>(a.x), b[0][j], fma(vec4<f32>(a.y), b[1][j],
                        fma(vec4<f32>(a.z), b[2][j], fma(vec4<f32>(a.w), b[3][j], acc[i][j]))));
          }
        }
        k4++;
      }
    }
  }

  write_tile(&acc, row0, 1u, col0);
}
