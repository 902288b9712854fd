// Similarity search over image embeddings: the index and cache formats (safetensors), L2
// normalisation, top-k cosine search, and the incremental-update plan. Pure TypeScript, no Node imports.
export {
  CACHE_FORMAT,
  decodeFeatureCache,
  decodeSearchIndex,
  encodeFeatureCache,
  encodeSearchIndex,
  INDEX_FORMAT,
  NotThisFormatError,
  sameSettings,
  type EmbeddingSettings,
  type FeatureCache,
  type SearchIndex,
} from './format.ts';
export { l2Normalize } from './normalize.ts';
export { gatherRows, planReuse, sameStamp, type FileStamp, type ReusePlan } from './store.ts';
export { cosineTopK, TopK, type EmbeddingMatrix, type Neighbour, type SearchOptions } from './topk.ts';
export { GpuCosineIndex, type GpuIndexOptions } from './gpu.ts';
