// cosine_scores.wgsl: the dot product of every index row with every query, for the embedding search
// (src/search/gpu.ts); rows and queries are L2-normalised beforehand, so the dots are cosine scores.
//
// Buffers (f32, row-major, each embedding padded with zeros to DIM4 vec4s):
//   index   [rows, 4·dim4]      one chunk of the index (the host splits large indexes into chunks)
//   queries [queries, 4·dim4]
//   scores  [queries, rows]     output
//
// One invocation per (row, query) pair: x along the chunk's rows, y along the queries; workgroups of
// WG × 1 invocations (WG prepended by src/search/gpu.ts). Each invocation streams both vectors with vec4
// loads and sums its 4 lanes pairwise at the end.

struct Params {
  rows: u32,     // rows of this chunk
  dim4: u32,     // vec4s per embedding
  queries: u32,  // queries in this group
  _pad: u32,
}
@group(0) @binding(0) var<storage, read> index: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  let q = gid.y;
  if (r >= params.rows || q >= params.queries) { return; }
  let a = r * params.dim4;
  let b = q * params.dim4;
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < params.dim4; j++) {
    acc += index[a + j] * queries[b + j];
  }
  scores[q * params.rows + r] = (acc.x + acc.y) + (acc.z + acc.w);
}
