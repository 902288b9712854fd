// maxpool.wgsl: 3×3 max pool, stride 2, padding 1, on NHWC. The padding never wins (it is skipped:
// torchvision), or with zeroPad = 1 it is a 0 like any pixel (BiT: ConstantPad2d(1, 0), MaxPool2d(3, 2)),
// so a window that touches it takes max(·, 0).
//
// Buffers (S4 holds 4 stored values):
//   X [N, H, W, C]    as S4 [N·H·W, C4]
//   Y [N, OH, OW, C]  as S4 [N·OH·OW, C4], OH = floor((H − 1) / 2) + 1, likewise OW
//
// One invocation per output vec4; workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The window's centre (2·oy, 2·ox) is always inside the image,
// so it seeds the max. The generated preamble defines S4
// (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>),
// and WG.

struct Params {
  total: u32,
  H: u32,
  W: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  zeroPad: u32,
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
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.total) { return; }
  let c4 = idx % p.C4;
  let m = idx / p.C4;
  let ox = m % p.OW;
  let t = m / p.OW;
  let oy = t % p.OH;
  let n = t / p.OH;
  let cy = oy * 2u;
  let cx = ox * 2u;
  let base = n * p.H;
  var v = load4(X[((base + cy) * p.W + cx) * p.C4 + c4]);
  if (p.zeroPad != 0u && (cy < 1u || cx < 1u || cy + 2u > p.H || cx + 2u > p.W)) { v = max(v, vec4<f32>(0.0)); }
  for (var dy = 0u; dy < 3u; dy++) {
    let iy = cy + dy;
    if (iy < 1u || iy > p.H) { continue; }
    for (var dx = 0u; dx < 3u; dx++) {
      let ix = cx + dx;
      if (ix < 1u || ix > p.W) { continue; }
      v = max(v, load4(X[((base + iy - 1u) * p.W + ix - 1u) * p.C4 + c4]));
    }
  }
  Y[idx] = store4(v); // exact: the max is one of the stored values
}
