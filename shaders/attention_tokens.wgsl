// attention_tokens.wgsl: CLIP's attention-pool tokens. Token 0 is the mean of the G×G map, token 1 + i
// its pixel i (row-major); each plus its learned positional embedding.
//
// Buffers (S4 holds 4 stored values):
//   X [N, G·G, C]      as S4 [N·G·G, C4]
//   M [N, C]           as S4 [N, C4] (the global average pool of X)
//   P [L, C] f32 vec4  [L, C4], zero-padded channels, L = 1 + G·G
//   Y [N, L, C]        as S4 [N·L, C4]
//
// One invocation per output vec4; workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The generated preamble defines S4 (vec4<f32>; in f16 mode
// vec2<u32>, 4 IEEE halves packed in pairs), load4 / store4 (S4 ↔ vec4<f32>), and WG.

struct Params {
  total: u32,
  L: u32,
  C4: u32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> X: array<S4>;
@group(0) @binding(2) var<storage, read_write> M: array<S4>;
@group(0) @binding(3) var<storage, read> P: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> Y: array<S4>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.total) { return; }
  let c4 = idx % p.C4;
  let m = idx / p.C4;
  let t = m % p.L;
  let n = m / p.L;
  var v: vec4<f32>;
  if (t == 0u) {
    v = load4(M[n * p.C4 + c4]);
  } else {
    v = load4(X[(n * (p.L - 1u) + t - 1u) * p.C4 + c4]);
  }
  Y[idx] = store4(v + P[t * p.C4 + c4]);
}
