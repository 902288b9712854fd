// preprocess_pil_h.wgsl: the horizontal pass of PIL's antialiased resize, bilinear or bicubic (Pillow's
// ImagingResampleHorizontal_8bpc, what torchvision's Resize does to a PIL image), computed only for
// the columns of the crop and the source rows the vertical pass (preprocess_pil_v) will read.
// Integer-exact: acc = 2^21 + Σ sample · weight in i32 (the positive weights sum to under 2 · 2^22,
// bicubic's negative lobes included, so |acc| < 2^31), then clip(acc >> 22, 0, 255) (arithmetic
// shift: a negative sum clips to 0): the 8-bit rounding PIL applies between its two passes.
//
// Buffers:
//   TBL  i32 [..]: words 0 … 767 the normalisation table (unused here); from p.offX one record per
//        output column x < outW: start (first source column), count (taps used), then tapsX weights
//        with 22 fractional bits (pilCoefficients for the crop's columns; unused weights are 0)
//   SRC  u32 [ceil(3·srcW·srcH / 4)]: the source image, RGB bytes packed 4 per word, little-endian
//        (the byte of pixel i, channel c is byte 3·i + c)
//   T    u32 [rows, outW]: source rows row0 … row0 + rows − 1 resized horizontally, one pixel per
//        word, R | G << 8 | B << 16
//
// One invocation per column x and ROWS consecutive rows of T (x fastest), so each weight load
// serves ROWS pixels (on lavapipe about 1.5× faster than one row per invocation); workgroups of WG
// invocations, numbered linearly (wid.x + wid.y · num_workgroups.x): ceil(rows / ROWS) · outW
// invocations. The generated preamble defines WG.

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

const ROWS: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> TBL: array<i32>;
@group(0) @binding(2) var<storage, read> SRC: array<u32>;
@group(0) @binding(3) var<storage, read_write> T: array<u32>;

// Pixel i's R, G, B from the packed bytes: its 3 bytes start at byte 3·i and span one or two words.
fn load_px(i: u32) -> vec3<i32> {
  let k = i * 3u;
  let w = k >> 2u;
  let s = (k & 3u) * 8u;
  var v = SRC[w] >> s;
  if (s > 8u) { v |= SRC[w + 1u] << (32u - s); }
  return vec3<i32>(vec3<u32>(v & 255u, (v >> 8u) & 255u, (v >> 16u) & 255u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (idx >= ((p.rows + ROWS - 1u) / ROWS) * p.outW) { return; }
  let x = idx % p.outW;
  let r0 = (idx / p.outW) * ROWS;
  let rec = p.offX + x * (p.tapsX + 2u);
  let start = u32(TBL[rec]);
  let count = u32(TBL[rec + 1u]);
  let last = p.rows - 1u;
  var base: array<u32, ROWS>;
  var acc: array<vec3<i32>, ROWS>;
  for (var j = 0u; j < ROWS; j++) {
    base[j] = (p.row0 + min(r0 + j, last)) * p.srcW + start; // rows past the end repeat the last, unwritten
    acc[j] = vec3<i32>(1 << 21);
  }
  for (var t = 0u; t < count; t++) {
    let w = TBL[rec + 2u + t];
    for (var j = 0u; j < ROWS; j++) { acc[j] += load_px(base[j] + t) * w; }
  }
  for (var j = 0u; j < ROWS; j++) {
    let r = r0 + j;
    if (r > last) { break; }
    let v = vec3<u32>(clamp(acc[j] >> vec3<u32>(22u), vec3<i32>(0), vec3<i32>(255)));
    T[r * p.outW + x] = v.x | (v.y << 8u) | (v.z << 16u);
  }
}
