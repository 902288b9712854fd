// Where a plan's activations live: every buffer the recorder asked for (one per value, im2col scratch,
// the NCHW input) has a lifetime, the span of dispatches that touch it. Buffers whose lifetimes do not
// overlap can share memory, so they are packed into a few large GPU buffers (arenas) at aligned
// offsets: "greedy by size" (largest first, each at the lowest offset free for its whole lifetime),
// as TensorFlow Lite's arena planner does. For ResNet-50 this needs about the peak of the bytes live at
// any one dispatch, rather than a buffer per size class.

export interface Lifetime {
  readonly bytes: number;
  /** First and last dispatch that touch the buffer (inclusive); −1 for written before the first. */
  readonly first: number;
  readonly last: number;
}

export interface Placement {
  readonly arena: number;
  readonly offset: number;
}

/**
 * Places each buffer in an arena at an offset aligned to `align`, so that buffers whose lifetimes
 * overlap never overlap in memory; no arena grows past `maxArena` bytes.
 */
export function placeInArenas(
  items: readonly Lifetime[],
  align: number,
  maxArena: number,
): { placements: Placement[]; arenaSizes: number[] } {
  const placements: Placement[] = new Array(items.length);
  const arenas: number[][] = []; // indices of the items placed in each arena
  const arenaSizes: number[] = [];
  const order = items.map((_, i) => i).sort((a, b) => items[b].bytes - items[a].bytes || items[a].first - items[b].first);
  const roundUp = (n: number) => Math.ceil(n / align) * align;
  for (const i of order) {
    const it = items[i];
    if (it.bytes > maxArena) throw new Error(`a ${it.bytes}-byte buffer exceeds the ${maxArena}-byte limit`);
    let placed = false;
    for (let a = 0; a < arenas.length && !placed; a++) {
      // The items of this arena alive at the same time, by offset; take the first gap that fits.
      const busy = arenas[a]
        .filter((j) => items[j].first <= it.last && it.first <= items[j].last)
        .sort((x, y) => placements[x].offset - placements[y].offset);
      let offset = 0;
      for (const j of busy) {
        if (offset + it.bytes <= placements[j].offset) break;
        offset = Math.max(offset, roundUp(placements[j].offset + items[j].bytes));
      }
      if (offset + it.bytes <= maxArena) {
        placements[i] = { arena: a, offset };
        arenas[a].push(i);
        arenaSizes[a] = Math.max(arenaSizes[a], offset + it.bytes);
        placed = true;
      }
    }
    if (!placed) {
      placements[i] = { arena: arenas.length, offset: 0 };
      arenas.push([i]);
      arenaSizes.push(it.bytes);
    }
  }
  return { placements, arenaSizes };
}
