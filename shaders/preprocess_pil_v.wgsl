// preprocess_pil_v.wgsl: the vertical pass of PIL's antialiased resize for the crop's rows
// (Pillow's ImagingResampleVertical_8bpc, same integer arithmetic as preprocess_pil_h), fused with
// the crop, ToTensor + Normalize and the output layout. Reads the rows preprocess_pil_h wrote.
//
// Buffers:
//   TBL  i32 [..]: words 0 … 767 the normalisation table, f32 bits: TBL[256·c + v] is output channel
//        c for level v, (v / 255 − mean[c]) / std[c] in float32 as the CPU reference computes it;
//        from p.offY one record per output row y < outH: start (first row of T), count, then tapsY
//        weights with 22 fractional bits (pilCoefficients for the crop's rows)
//   T    u32 [rows, outW]: the horizontal pass, one pixel per word, R | G << 8 | B << 16
//   Y    OUT [..]: the output, written by store_out (see below)
//
// One invocation per output pixel (x fastest); workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The generated preamble defines WG, the output element type
// OUT and store_out(pixel, levels), which writes one pixel in the chosen layout: NCHW f32 planes
// [3, outH, outW] (channels in RGB or, with p.bgr, BGR order, through normalized()), NHWC with 4
// channels per pixel (the 4th zero) as vec4<f32> or as 4 IEEE halves in vec2<u32>, or the 8-bit
// levels themselves (R | G << 8 | B << 16, the resize stage's output).

struct Params {
  srcW: u32,
  srcH: u32,
  outW: u32,
  outH: u32,
  rows: u32,
  row0: u32,
  tapsX: u32,
  tapsY: u32,
  offX: u32,
  offY: u32,
  bgr: u32,
  pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> TBL: array<i32>;
@group(0) @binding(2) var<storage, read> T: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<OUT>;

// The normalised output channels for levels px (R, G, B): a table lookup, bit-exact by construction.
fn normalized(px: vec3<u32>) -> vec3<f32> {
  let s = select(px, px.zyx, p.bgr != 0u);
  return vec3<f32>(bitcast<f32>(TBL[s.x]), bitcast<f32>(TBL[256u + s.y]), bitcast<f32>(TBL[512u + s.z]));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= p.outH * p.outW) { return; }
  let x = idx % p.outW;
  let y = idx / p.outW;
  let rec = p.offY + y * (p.tapsY + 2u);
  let start = u32(TBL[rec]);
  let count = u32(TBL[rec + 1u]);
  var acc = vec3<i32>(1 << 21);
  for (var t = 0u; t < count; t++) {
    let w = T[(start + t) * p.outW + x];
    acc += vec3<i32>(vec3<u32>(w & 255u, (w >> 8u) & 255u, (w >> 16u) & 255u)) * TBL[rec + 2u + t];
  }
  store_out(idx, vec3<u32>(clamp(acc >> vec3<u32>(22u), vec3<i32>(0), vec3<i32>(255))));
}
