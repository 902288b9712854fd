// im2col.wgsl: unfold an NHWC activation into the GEMM's A matrix for a KW×KW conv with a stride and
// zero padding.
//
// Buffers (S4 holds 4 stored values):
//   X [N, H, W, C]        as S4 [N·H·W, C4], C = 4·C4 (channels zero-padded to a multiple of 4)
//   Y [N·OH·OW, KW·KW·C]  as S4 [M, K4], K4 = KW·KW·C4, column (ky·KW + kx)·C4 + c4;
//                         taps that fall in the padding are zero
//
// One invocation per output row (output pixel m), copying its KW·KW taps of C4 elements each: the
// pixel's coordinates need integer divisions, which CPU adapters run lane by lane, so they are done
// once per row rather than once per element. Workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x, so the host can fold > 65535 workgroups into 2-D).
// The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and WG.

struct Params {
  M: u32,
  H: u32,
  W: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  KW: u32,
  stride: u32,
  pad: u32,
  K4: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// Activations are all declared read_write, inputs too (never written here): they share the plan's
// activation arena buffer, and WebGPU rejects one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(1) var<storage, read_write> X: array<S4>;
@group(0) @binding(2) var<storage, read_write> Y: array<S4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (m >= p.M) { return; }
  let ox = m % p.OW;
  let t = m / p.OW;
  let oy = t % p.OH;
  let n = t / p.OH;
  let C4 = p.C4;
  var dst = m * p.K4;
  for (var ky = 0u; ky < p.KW; ky++) {
    let iy = i32(oy * p.stride + ky) - i32(p.pad);
    let rowOk = iy >= 0 && iy < i32(p.H);
    for (var kx = 0u; kx < p.KW; kx++) {
      let ix = i32(ox * p.stride + kx) - i32(p.pad);
      let ok = rowOk && ix >= 0 && ix < i32(p.W);
      // Taps in the padding read pixel 0 (always valid) and store zeros.
      let src = select(0u, ((n * p.H + u32(iy)) * p.W + u32(ix)) * C4, ok);
      for (var c4 = 0u; c4 < C4; c4++) {
        Y[dst + c4] = select(S4(), X[src + c4], ok);
      }
      dst += C4;
    }
  }
}
