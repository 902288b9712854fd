// attention.wgsl: CLIP's attention pooling, one query per image over L tokens in HEADS heads of D
// channels: out_h = softmax_j(q_h · k_{j,h}) · v_{j,h} (q already scaled by 1/√D). Scores, softmax
// and the weighted sums are f32 whatever the storage precision.
//
// Buffers (S4 holds 4 stored values):
//   Q  [N, C]        as S4 [N, C4], C = HEADS·D
//   KV [N, L, 2C]    as S4 [N·L, KV4]: keys in channels [0, C), values in [C, 2C)
//   Y  [N, C]        as S4 [N, C4]
//
// One workgroup of WG invocations per image (numbered linearly, wid.x + wid.y · num_workgroups.x), so
// heads whose channels share a vec4 are written by one invocation: its invocations stride over the
// HEADS·L scores (workgroup memory, HL = HEADS·L), then over the heads (max, exp, sum), then over the
// output vec4s. The generated preamble defines S4 (vec4<f32>; in f16 mode vec2<u32>, 4 IEEE halves
// packed in pairs), load4 / store4 (S4 ↔ vec4<f32>), WG, HEADS and HL.

struct Params {
  N: u32,
  L: u32,
  C: u32,
  D: u32,
  C4: u32,
  KV4: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<S4>;
@group(0) @binding(2) var<storage, read_write> KV: array<S4>;
@group(0) @binding(3) var<storage, read_write> Y: array<S4>;

var<workgroup> score: array<f32, HL>;
var<workgroup> total: array<f32, HEADS>;

fn kv(n: u32, j: u32, ch: u32) -> f32 {
  return load4(KV[(n * p.L + j) * p.KV4 + ch / 4u])[ch % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lidv: vec3<u32>) {
  // Uniform control flow for the barriers: surplus workgroups compute on a clamped image, write nothing.
  let gid = wid.x + wid.y * nwg.x;
  let n = min(gid, p.N - 1u);
  let lid = lidv.x;
  for (var e = lid; e < HL; e += WG) {
    let h = e / p.L;
    let j = e % p.L;
    var s = 0.0;
    for (var i = h * p.D; i < (h + 1u) * p.D; i++) { s += load4(Q[n * p.C4 + i / 4u])[i % 4u] * kv(n, j, i); }
    score[e] = s;
  }
  workgroupBarrier();
  for (var h = lid; h < HEADS; h += WG) {
    var m = score[h * p.L];
    for (var j = 1u; j < p.L; j++) { m = max(m, score[h * p.L + j]); }
    var t = 0.0;
    for (var j = 0u; j < p.L; j++) {
      let e = exp(score[h * p.L + j] - m);
      score[h * p.L + j] = e;
      t += e;
    }
    total[h] = t;
  }
  workgroupBarrier();
  if (gid >= p.N) { return; }
  for (var o4 = lid; o4 < p.C4; o4 += WG) {
    var y = vec4<f32>(0.0);
    for (var l = 0u; l < 4u; l++) {
      let i = 4u * o4 + l;
      if (i >= p.C) { break; }
      let h = i / p.D;
      var s = 0.0;
      for (var j = 0u; j < p.L; j++) { s += score[h * p.L + j] * kv(n, j, p.C + i); }
      y[l] = s / total[h];
    }
    Y[n * p.C4 + o4] = store4(y);
  }
}
