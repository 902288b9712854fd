// Top-k cosine similarity search over a [N, D] embedding matrix, on the CPU: a blocked dot product
// (a tile of index rows stays in cache while every query of a tile of queries is scored against
// it) feeding one bounded min-heap per query.

/** A row-major [rows, dim] float32 matrix. */
export interface EmbeddingMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly dim: number;
}

export interface Neighbour {
  /** row of the index */
  readonly index: number;
  /** cosine similarity, in [-1, 1] */
  readonly score: number;
}

export interface SearchOptions {
  /** The index rows already have unit norm (as a search index stores them): skip their norms. */
  normalized?: boolean;
  /** Index rows per tile (default: about 64 KiB of rows). */
  blockRows?: number;
  /** Queries per tile (default 8). */
  blockQueries?: number;
}

function checkMatrix(m: EmbeddingMatrix, what: string): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.dim) || m.rows < 0 || m.dim < 0 || m.data.length !== m.rows * m.dim) {
    throw new Error(`${what}: a [${m.rows}, ${m.dim}] matrix needs ${m.rows * m.dim} values, got ${m.data.length}`);
  }
}

/** Bounded min-heap of (score, index): the root is the worst kept neighbour. */
export class TopK {
  readonly scores: Float64Array;
  readonly indices: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.indices = new Int32Array(k);
  }

  /** a ranks below b: lower score, or the same score and a later row */
  private static below(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  /** Offer a row's score; a NaN score ranks below every other. */
  push(score: number, index: number): void {
    if (Number.isNaN(score)) score = -Infinity;
    const { scores, indices } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!TopK.below(score, index, scores[parent], indices[parent])) break;
        scores[i] = scores[parent];
        indices[i] = indices[parent];
        i = parent;
      }
      scores[i] = score;
      indices[i] = index;
      return;
    }
    if (!TopK.below(scores[0], indices[0], score, index)) return;
    // replace the root and sift down
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && TopK.below(scores[r], indices[r], scores[l], indices[l]) ? r : l;
      if (!TopK.below(scores[c], indices[c], score, index)) break;
      scores[i] = scores[c];
      indices[i] = indices[c];
      i = c;
    }
    scores[i] = score;
    indices[i] = index;
  }

  /** best first: score descending, then row ascending (a NaN score comes back as NaN, last) */
  sorted(): Neighbour[] {
    const out: Neighbour[] = [];
    for (let i = 0; i < this.size; i++) out.push({ index: this.indices[i], score: this.scores[i] });
    out.sort((a, b) => (a.score === b.score ? a.index - b.index : b.score > a.score ? 1 : -1));
    return out.map((n) => (n.score === -Infinity ? { index: n.index, score: NaN } : n));
  }
}

function rowNorms(m: EmbeddingMatrix): Float64Array {
  const norms = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    const base = r * m.dim;
    for (let j = 0; j < m.dim; j++) s += m.data[base + j] * m.data[base + j];
    norms[r] = Math.sqrt(s);
  }
  return norms;
}

function dot(a: Float32Array, aBase: number, b: Float32Array, bBase: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[aBase + j] * b[bBase + j];
  return s;
}

/** Four queries (rows q, q+1, q+2, q+3 of b) against one row of a: each value of a loaded once. */
function dot4(a: Float32Array, aBase: number, b: Float32Array, q: number, dim: number, out: Float64Array): void {
  const b0 = q * dim;
  const b1 = b0 + dim;
  const b2 = b1 + dim;
  const b3 = b2 + dim;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let j = 0; j < dim; j++) {
    const x = a[aBase + j];
    s0 += x * b[b0 + j];
    s1 += x * b[b1 + j];
    s2 += x * b[b2 + j];
    s3 += x * b[b3 + j];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * The k rows of `index` most similar to each query by cosine similarity, best first (ties: the
 * earlier row first). k is capped at the number of rows. A zero row or query scores 0; a NaN score
 * ranks last. Dot products accumulate in double precision.
 */
export function cosineTopK(index: EmbeddingMatrix, queries: EmbeddingMatrix, k: number, opts: SearchOptions = {}): Neighbour[][] {
  checkMatrix(index, 'index');
  checkMatrix(queries, 'queries');
  if (index.dim !== queries.dim) throw new Error(`the index holds ${index.dim}-d embeddings, the queries are ${queries.dim}-d`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  const { dim } = index;
  const kept = Math.min(k, index.rows);
  const heaps = Array.from({ length: queries.rows }, () => new TopK(kept));
  if (kept === 0) return heaps.map(() => []);
  const indexNorms = opts.normalized ? null : rowNorms(index);
  const queryNorms = rowNorms(queries);
  const blockRows = opts.blockRows ?? Math.max(1, Math.floor(16384 / Math.max(dim, 1)));
  const blockQueries = opts.blockQueries ?? 8;
  const four = new Float64Array(4);
  for (let r0 = 0; r0 < index.rows; r0 += blockRows) {
    const r1 = Math.min(r0 + blockRows, index.rows);
    for (let q0 = 0; q0 < queries.rows; q0 += blockQueries) {
      const q1 = Math.min(q0 + blockQueries, queries.rows);
      for (let r = r0; r < r1; r++) {
        const rn = indexNorms ? indexNorms[r] : 1;
        let q = q0;
        for (; q + 4 <= q1; q += 4) {
          dot4(index.data, r * dim, queries.data, q, dim, four);
          for (let i = 0; i < 4; i++) {
            const denominator = rn * queryNorms[q + i];
            heaps[q + i].push(denominator > 0 ? four[i] / denominator : 0, r);
          }
        }
        for (; q < q1; q++) {
          const denominator = rn * queryNorms[q];
          heaps[q].push(denominator > 0 ? dot(index.data, r * dim, queries.data, q * dim, dim) / denominator : 0, r);
        }
      }
    }
  }
  return heaps.map((h) => h.sorted());
}
