// preprocess_cv.wgsl: OpenCV's cv2.resize INTER_LINEAR on 8-bit images (resize-cv.ts), fused with
// the crop, ToTensor + Normalize and the output layout, in one pass. Each output reads 2×2 source
// pixels; the horizontal sums are exact integers (≤ 255 · 2^11), so recomputing them per output
// equals OpenCV's row buffer; the vertical step is OpenCV's fixed point,
// (((b0 · (S0 >> 4)) >> 16) + ((b1 · (S1 >> 4)) >> 16) + 2) >> 2, in i32 (products < 2^26).
//
// Buffers:
//   TBL  i32 [..]: words 0 … 767 the normalisation table (f32 bits, see preprocess_pil_v); from
//        p.offX one record of 4 words per output column x < outW: first, second (source columns),
//        w0, w1 (11 fractional bits); from p.offY likewise per output row (cvCoefficients for the
//        crop's columns and rows)
//   SRC  u32 [ceil(3·srcW·srcH / 4)]: the source image, RGB bytes packed 4 per word, little-endian
//   Y    OUT [..]: the output, written by store_out (see preprocess_pil_v)
//
// One invocation per output pixel (x fastest); workgroups of WG invocations, numbered linearly
// (wid.x + wid.y · num_workgroups.x). The generated preamble defines WG, OUT and store_out.

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
@group(0) @binding(2) var<storage, read> SRC: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<OUT>;

fn load_px(i: u32) -> vec3<i32> {
  let k = i * 3u;
  let w = k >> 2u;
  let s = (k & 3u) * 8u;
  var v = SRC[w] >> s;
  if (s > 8u) { v |= SRC[w + 1u] << (32u - s); }
  return vec3<i32>(vec3<u32>(v & 255u, (v >> 8u) & 255u, (v >> 16u) & 255u));
}

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
  let rx = p.offX + 4u * x;
  let ry = p.offY + 4u * y;
  let a = u32(TBL[rx]);
  let b = u32(TBL[rx + 1u]);
  let w0 = TBL[rx + 2u];
  let w1 = TBL[rx + 3u];
  let r0 = u32(TBL[ry]) * p.srcW;
  let r1 = u32(TBL[ry + 1u]) * p.srcW;
  let s0 = load_px(r0 + a) * w0 + load_px(r0 + b) * w1;
  let s1 = load_px(r1 + a) * w0 + load_px(r1 + b) * w1;
  let v = (((TBL[ry + 2u] * (s0 >> vec3<u32>(4u))) >> vec3<u32>(16u)) +
           ((TBL[ry + 3u] * (s1 >> vec3<u32>(4u))) >> vec3<u32>(16u)) + vec3<i32>(2)) >> vec3<u32>(2u);
  // Always 0 … 255 (at most (1020 + 2) >> 2); the mask mirrors the reference's Uint8Array store.
  store_out(idx, vec3<u32>(v) & vec3<u32>(255u));
}
