// avgpool.wgsl: average pool over KH×KW windows with stride (KH, KW), no padding, on NHWC, summed in
// f32. The global average pool is the one window covering the image (KH = H, KW = W, OH = OW = 1);
// CLIP's 2×2/2 pool (nn.AvgPool2d(2)) is KH = KW = 2, OH = ⌊H/2⌋, OW = ⌊W/2⌋.
//
// Buffers (S4 holds 4 stored values):
//   X [N, H, W, C]    as S4 [N·H·W, C4]
//   Y [N, OH, OW, C]  as S4 [N·OH·OW, C4]
//
// One invocation per output vec4 (n, oy, ox, c4), looping over its window row by row; workgroups of
// WG invocations, numbered linearly (wid.x + wid.y · num_workgroups.x). The generated preamble
// defines S4 (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4
// (S4 ↔ vec4<f32>), and WG.

struct Params {
  total: u32,
  H: u32,
  W: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  KH: u32,
  KW: u32,
  invK: f32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// Activations are all declared read_write, inputs too (never written here): they share the plan's
// activation arena buffer, and WebGPU rejects one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(1) var<storage, read_write> X: array<S4>;
@group(0) @binding(2) var<storage, read_write> Y: array<S4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.total) { return; }
  let c4 = idx % p.C4;
  let m = idx / p.C4;
  let ox = m % p.OW;
  let t = m / p.OW;
  let oy = t % p.OH;
  let n = t / p.OH;
  var s = vec4<f32>(0.0);
  for (var dy = 0u; dy < p.KH; dy++) {
    var at = ((n * p.H + oy * p.KH + dy) * p.W + ox * p.KW) * p.C4 + c4;
    for (var dx = 0u; dx < p.KW; dx++) {
      s += load4(X[at]);
      at += p.C4;
    }
  }
  Y[idx] = store4(s * p.invK);
}
