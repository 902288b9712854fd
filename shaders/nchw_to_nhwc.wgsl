// nchw_to_nhwc.wgsl: the network input, f32 NCHW (PyTorch's layout), to the engine's NHWC storage
// layout with channels zero-padded to a multiple of 4 and converted to the storage type.
//
// Buffers:
//   X [N, C, H, W]   f32, plain array
//   Y [N, H, W, C4·4] as S4 [N·H·W, C4]; channels ≥ C are zero
//
// One invocation per output vec4 (pixel, c4); workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and WG.

struct Params {
  total: u32,
  C: u32,
  HW: u32,
  C4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// Activations are all declared read_write, inputs too (never written here): they share the plan's
// activation arena buffer, and WebGPU rejects one buffer bound both read-only and writable in a dispatch.
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<S4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.total) { return; }
  let c4 = idx % p.C4;
  let m = idx / p.C4;
  let pix = m % p.HW;
  let n = m / p.HW;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    let c = c4 * 4u + j;
    if (c < p.C) { v[j] = X[(n * p.C + c) * p.HW + pix]; }
  }
  Y[idx] = store4(v);
}
