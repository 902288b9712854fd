// groupnorm_stats.wgsl: GroupNorm's statistics, the mean and 1/√(var + eps) (population variance) of
// each (image, group) over its H·W pixels × CG channels, in f32, two passes (mean, then squared
// deviations from it). groupnorm_apply.wgsl normalises with them.
//
// Buffers (S4 holds 4 stored values):
//   X  [N, H·W, C] as S4 [N·H·W, C4]; group g holds channels [g·CG, (g + 1)·CG)
//   ST [n0 + N, G] as vec2<f32> (mean, rstd); this dispatch writes images n0 … n0 + N − 1
//
// One workgroup of WG invocations per (n, g), numbered linearly (wid.x + wid.y · num_workgroups.x)
// as n·G + g; its invocations stride over the group's H·W·CG values and reduce their partial sums in
// workgroup memory (a tree that works for any WG). The generated preamble defines S4 (vec4<f32>; in
// f16 mode vec2<u32>, 4 IEEE halves packed in pairs), load4 (S4 → vec4<f32>), and WG.

struct Params {
  groups: u32, // N·G workgroups in this dispatch
  HW: u32,
  C4: u32,
  CG: u32,
  G: u32,
  n0: u32,
  eps: f32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<S4>;
@group(0) @binding(2) var<storage, read_write> ST: array<vec2<f32>>;

var<workgroup> red: array<f32, WG>;

fn value(n: u32, g: u32, e: u32) -> f32 {
  let pix = e / p.CG;
  let ch = g * p.CG + e % p.CG;
  return load4(X[(n * p.HW + pix) * p.C4 + ch / 4u])[ch % 4u];
}

// The sum of every invocation's `v`, returned to all of them.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 1u; s < WG; s *= 2u) {
    if (lid % (2u * s) == 0u && lid + s < WG) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lidv: vec3<u32>) {
  let gid = wid.x + wid.y * nwg.x;
  // Uniform control flow for the barriers: surplus workgroups (from 2-D folding) compute on a clamped
  // group and write nothing.
  let at = min(gid, p.groups - 1u);
  let n = at / p.G;
  let g = at % p.G;
  let lid = lidv.x;
  let count = p.HW * p.CG;
  var s = 0.0;
  for (var e = lid; e < count; e += WG) { s += value(n, g, e); }
  let mean = workgroup_sum(lid, s) / f32(count);
  var q = 0.0;
  for (var e = lid; e < count; e += WG) {
    let d = value(n, g, e) - mean;
    q += d * d;
  }
  let variance = workgroup_sum(lid, q) / f32(count);
  if (lid == 0u && gid < p.groups) { ST[(p.n0 + n) * p.G + g] = vec2<f32>(mean, inverseSqrt(variance + p.eps)); }
}
