// Reading PyTorch checkpoints (torch.save files) without Python and without running anything in them.
export { readTorchZip } from './torch-zip.ts';
export { readTorchLegacy, LEGACY_MAGIC } from './legacy.ts';
