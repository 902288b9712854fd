// groupnorm_apply.wgsl: GroupNorm's normalisation with fused ReLU:
// y = (x − mean_g) · rstd_g · gamma_c + beta_c, then max(y, 0) when relu, with the statistics of
// groupnorm_stats.wgsl. Padded channels (c ≥ C) come out 0.
//
// Buffers (S4 holds 4 stored values):
//   X  [N, H·W, C] as S4 [N·H·W, C4]
//   ST [n0 + N, G] vec2<f32> (mean, rstd); this dispatch reads images n0 … n0 + N − 1
//   GB f32 vec4 [2·C4]: gamma (zero-padded to 4·C4), then beta
//   Y  [N, H·W, C] as S4 [N·H·W, C4]
//
// One invocation per output vec4; workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The generated preamble defines S4 (vec4<f32>; in f16 mode
// vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>), and WG.

struct Params {
  total: u32,
  HW: u32,
  C4: u32,
  CG: u32,
  G: u32,
  n0: u32,
  relu: u32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<S4>;
@group(0) @binding(2) var<storage, read_write> ST: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> GB: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Y: array<S4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.total) { return; }
  let c4 = idx % p.C4;
  let n = idx / (p.C4 * p.HW);
  var mean = vec4<f32>(0.0);
  var rstd = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) {
    let g = min((4u * c4 + i) / p.CG, p.G - 1u); // padded channels: any group (gamma and beta are 0)
    let st = ST[(p.n0 + n) * p.G + g];
    mean[i] = st.x;
    rstd[i] = st.y;
  }
  var y = (load4(X[idx]) - mean) * rstd * GB[c4] + GB[p.C4 + c4];
  if (p.relu != 0u) { y = max(y, vec4<f32>(0.0)); }
  Y[idx] = store4(y);
}
