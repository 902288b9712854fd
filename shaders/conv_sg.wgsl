// conv_sg.wgsl: implicit-GEMM convolution for CPU adapters with 8-wide subgroups (lavapipe on AVX2):
// C = act(conv(A, W) + bias [+ R]) as the GEMM of gemm_sg.wgsl, with im2col folded into the A loads,
// so no column matrix is ever written or read (no scratch buffer, one dispatch instead of two).
// The explicit path (im2col.wgsl + gemm_sg.wgsl) is the readable reference and stays selectable.
//
// Buffers: as in gemm_io.wgsl (appended to this kernel, with the Params and the write-out), A being the
// NHWC input [N, H, W, 4·C4] and C the output [N·OH·OW, Nout]; B as for gemm_sg.wgsl (k = (ky·KW + kx)·4·C4
// + ci), in column panels of TN4 vec4s: [N4p / TN4, K, TN4].
//
// Tiling as gemm_sg: a workgroup is one subgroup of 8 lanes (x along M), each lane TM output pixels ×
// 4·TN4 output channels in f32 registers; the lanes share B through subgroupBroadcast. The K loop is
// split into (tap, c4): per tap each lane computes its TM source pixel offsets and padding masks once,
// then streams C4 vec4s per row. Taps in the zero padding read pixel 0 (always in range) and select
// zero. Rows past M are clamped on load and skipped on store. Control flow is uniform through the
// main loop (every loop bound is a uniform). Workgroups are numbered linearly (see gemm_sg.wgsl).
//
// The generated preamble defines S4, load4 / store4 and TM, TN4 (u32 constants), and enables
// subgroups where the implementation wants it.

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
  let C4 = p.C4;

  // Per row: the top-left input pixel of its receptive field (may lie in the padding) and image base.
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
  let bLane = tn * p.K4 * 4u * TN4 + lane;

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
          let a = select(vec4<f32>(0.0), load4(A[src[i] + c4]), ok[i]);
          for (var j = 0u; j < TN4; j++) {
            acc[i][j] = fma(vec4<f32>(a.x), b[j], fma(vec4<f32>(a.y), b[TN4 + j],
                        fma(vec4<f32>(a.z), b[2u * TN4 + j], fma(vec4<f32>(a.w), b[3u * TN4 + j], acc[i][j]))));
          }
        }
        k4++;
      }
    }
  }

  write_tile(&acc, row0, 1u, col0);
}
