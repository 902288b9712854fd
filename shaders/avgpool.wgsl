// avgpool.wgsl: global average pool, NHWC [N, H, W, C] → [N, C], summed in f32.
//
// Buffers (S4 holds 4 stored values):
//   X [N, H·W, C] as S4 [N·H·W, C4]
//   Y [N, C]      as S4 [N, C4]
//
// One invocation per output vec4 (n, c4), looping over the H·W pixels; workgroups of WG invocations,
// numbered linearly (wid.x + wid.y · num_workgroups.x). The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and WG.

struct Params {
  total: u32,
  HW: u32,
  C4: u32,
  invHW: f32,
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
  let n = idx / p.C4;
  var s = vec4<f32>(0.0);
  var at = n * p.HW * p.C4 + c4;
  for (var i = 0u; i < p.HW; i++) {
    s += load4(X[at]);
    at += p.C4;
  }
  Y[idx] = store4(s * p.invHW);
}
