// JPEG and PNG decoding for Node, through sharp (libvips, with mozjpeg and libpng; prebuilt and
// shipped inside npm packages). Pixels come out exactly as the reference libraries decode them:
// mozjpeg's decoder matches the libjpeg-turbo that PIL and OpenCV use bit for bit, and PNG is
// lossless. The pixels are taken raw, in the file's own colour space and bit depth (no ICC
// transform: PIL and OpenCV ignore embedded profiles), then turned into RGB per preset: PIL's rules
// for torchvision, clip and bit (EXIF orientation ignored), OpenCV's for msvision (EXIF orientation
// applied).
import { applyExifOrientation, toRgb, type RgbImage } from '../image/image.ts';
import type { Preset } from '../image/preprocess.ts';
import { CliError, readBytes } from './files.ts';

/** The colour spaces whose pixels are grey or RGB as stored (libvips' names). */
const PLAIN_SPACES = new Set(['srgb', 'b-w', 'rgb16', 'grey16']);

/** Decode a JPEG or PNG held in memory; `source` names it in errors. */
export async function decodeImage(bytes: Uint8Array, preset: Preset, source = '<image>'): Promise<RgbImage> {
  let sharp: typeof import('sharp').default;
  try {
    sharp = (await import('sharp')).default;
  } catch (e) {
    throw new CliError(`${source}: decoding images needs the 'sharp' package, which failed to load: ${(e as Error).message}`);
  }
  try {
    const image = sharp(bytes, { ignoreIcc: true });
    const meta = await image.metadata();
    if (meta.format !== 'jpeg' && meta.format !== 'png') {
      throw new Error(`not a JPEG or PNG file (found ${meta.format})`);
    }
    if (!PLAIN_SPACES.has(meta.space ?? '')) throw new Error(`unsupported colour space '${meta.space}'`);
    const depth = meta.depth === 'ushort' ? 'ushort' : 'uchar';
    const { data, info } = await image
      .toColourspace(meta.space)
      .raw({ depth })
      .toBuffer({ resolveWithObject: true });
    const samples = depth === 'ushort'
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const rgb = toRgb(
      { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4, data: samples },
      preset === 'msvision' ? 'opencv' : 'pil',
    );
    return preset === 'msvision' ? applyExifOrientation(rgb, meta.orientation ?? 1) : rgb;
  } catch (e) {
    const why = (e as Error).message.trim().replace(/\s*\n\s*/g, '; '); // libvips may report several lines
    throw new CliError(`${source}: cannot decode image: ${why}`);
  }
}

/** Read and decode an image file for `preset` (see decodeImage). */
export async function decodeImageFile(path: string, preset: Preset): Promise<RgbImage> {
  return decodeImage(await readBytes(path, 'input'), preset, path);
}
