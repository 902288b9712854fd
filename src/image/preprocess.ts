// From an RGB image to the model's input tensor, per preset. Each step mirrors its reference:
//   torchvision  Resize(256) (PIL bilinear, antialiased) → CenterCrop(224) → ToTensor → Normalize,
//                channels R, G, B
//   msvision     cv2.resize to 256×256 (INTER_LINEAR, aspect not kept) → [16:240, 16:240] → ToTensor
//                → Normalize, channels B, G, R (the Microsoft Vision Model reads BGR), with mean and
//                std applied by channel index, so blue uses 0.485 / 0.229
//   clip         OpenAI CLIP's: Resize(224, BICUBIC) (PIL bicubic, antialiased) → CenterCrop(224) →
//                ToTensor → Normalize with CLIP's mean and std, channels R, G, B
//   bit          Google BiT's (timm's config): Resize(256) (PIL bilinear) → CenterCrop(224) → ToTensor
//                → Normalize with mean 0.5, std 0.5, channels R, G, B
// The float steps are float32 in PyTorch's order: (v / 255 − mean) / std.
import { Tensor } from '../tensor/tensor.ts';
import { rgbImage, roundHalfEven, type RgbImage } from './image.ts';
import { resizeBilinearCv } from './resize-cv.ts';
import { resizeShorterSidePil, type PilFilter } from './resize-pil.ts';

export type Preset = 'torchvision' | 'msvision' | 'clip' | 'bit';
export const PRESETS: readonly Preset[] = ['torchvision', 'msvision', 'clip', 'bit'];

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
export const BIT_MEAN = [0.5, 0.5, 0.5] as const;
export const BIT_STD = [0.5, 0.5, 0.5] as const;

/** The presets that resize the shorter side with PIL, centre-crop 224 and keep RGB order. */
export const PIL_PRESETS = {
  torchvision: { size: 256, filter: 'bilinear', mean: IMAGENET_MEAN, std: IMAGENET_STD },
  clip: { size: 224, filter: 'bicubic', mean: CLIP_MEAN, std: CLIP_STD },
  bit: { size: 256, filter: 'bilinear', mean: BIT_MEAN, std: BIT_STD },
} as const satisfies Record<string, { size: number; filter: PilFilter; mean: readonly number[]; std: readonly number[] }>;

/** The mean and std a preset normalises with (by output channel index). */
export function presetNormalization(preset: Preset): { mean: readonly number[]; std: readonly number[] } {
  return preset === 'msvision' ? { mean: IMAGENET_MEAN, std: IMAGENET_STD } : PIL_PRESETS[preset];
}

/** torchvision's CenterCrop offsets [top, left] = int(round((H − h) / 2)), int(round((W − w) / 2)). */
export function centerCropOffsets(height: number, width: number, cropHeight: number, cropWidth: number): [number, number] {
  return [roundHalfEven((height - cropHeight) / 2), roundHalfEven((width - cropWidth) / 2)];
}

/** Rows top … top + height − 1, columns left … left + width − 1 (torchvision's F.crop order). */
export function crop(img: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  if (top < 0 || left < 0 || top + height > img.height || left + width > img.width) {
    throw new Error(`crop ${width}×${height} at (${left}, ${top}) does not fit a ${img.width}×${img.height} image`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return rgbImage(width, height, out);
}

/** torchvision's CenterCrop(size) on an image at least size × size. */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  const [top, left] = centerCropOffsets(img.height, img.width, size, size);
  return crop(img, top, left, size, size);
}

/**
 * ToTensor + Normalize: a float32 [3, H, W] tensor in `order`, output channel c holding
 * (v / 255 − mean[c]) / std[c].
 */
export function normalize(
  img: RgbImage, order: 'rgb' | 'bgr',
  mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD,
): Tensor {
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let c = 0; c < 3; c++) {
    const src = order === 'rgb' ? c : 2 - c;
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let i = 0; i < hw; i++) {
      out[c * hw + i] = Math.fround(Math.fround(img.data[i * 3 + src] / 255) - m) / s;
    }
  }
  return new Tensor([3, img.height, img.width], out);
}

/** The model input for one decoded image: float32 [3, 224, 224]. */
export function preprocess(img: RgbImage, preset: Preset): Tensor {
  if (preset === 'msvision') return normalize(crop(resizeBilinearCv(img, 256, 256), 16, 16, 224, 224), 'bgr');
  if (Object.hasOwn(PIL_PRESETS, preset)) {
    const p = PIL_PRESETS[preset];
    return normalize(centerCrop(resizeShorterSidePil(img, p.size, p.filter), 224), 'rgb', p.mean, p.std);
  }
  throw new Error(`unknown preprocessing preset '${preset}' (known: ${PRESETS.join(', ')})`);
}
