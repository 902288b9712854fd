// The activation arena planner (src/kernels/webgpu/arena.ts): buffers alive at the same time never
// share bytes, offsets are aligned, arenas stay under the limit, and the total stays near the peak.
import { describe, expect, it } from 'vitest';
import { placeInArenas, type Lifetime } from '../src/kernels/webgpu/arena.ts';
import { seededRandom } from '../src/nn/random.ts';

/** The most bytes alive at any one dispatch: the least any placement can use. */
function peakLiveBytes(items: readonly Lifetime[]): number {
  const events = items.flatMap((it) => [
    { at: it.first, delta: it.bytes },
    { at: it.last + 0.5, delta: -it.bytes },
  ]);
  events.sort((a, b) => a.at - b.at);
  let live = 0;
  let peak = 0;
  for (const e of events) {
    live += e.delta;
    peak = Math.max(peak, live);
  }
  return peak;
}

function checkPlacement(items: Lifetime[], align: number, maxArena: number) {
  const { placements, arenaSizes } = placeInArenas(items, align, maxArena);
  items.forEach((a, i) => {
    const p = placements[i];
    expect(p.offset % align).toBe(0);
    expect(p.offset + a.bytes).toBeLessThanOrEqual(arenaSizes[p.arena]);
    items.forEach((b, j) => {
      if (j <= i || placements[j].arena !== p.arena) return;
      const together = a.first <= b.last && b.first <= a.last;
      const apart = p.offset + a.bytes <= placements[j].offset || placements[j].offset + b.bytes <= p.offset;
      if (together && !apart) throw new Error(`items ${i} and ${j} are alive together and overlap in arena ${p.arena}`);
    });
  });
  for (const size of arenaSizes) expect(size).toBeLessThanOrEqual(maxArena);
  return arenaSizes;
}

describe('placeInArenas', () => {
  it('a chain of values (each read by the next dispatch) needs two buffers of memory, not one per value', () => {
    const items = [1000, 3000, 2000, 3000, 500].map((bytes, i) => ({ bytes, first: i, last: i + 1 }));
    const sizes = checkPlacement(items, 256, 1 << 20);
    expect(sizes).toHaveLength(1);
    expect(peakLiveBytes(items)).toBe(5000);
    expect(sizes[0]).toBeLessThanOrEqual(3072 + 3000);
  });

  it('random lifetimes: no two live buffers overlap, offsets aligned, total within 1.5× the peak', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 50; trial++) {
      const items: Lifetime[] = Array.from({ length: 40 }, () => {
        const first = Math.floor(random() * 60) - 1;
        return { bytes: 16 + Math.floor(random() * 5000), first, last: first + Math.floor(random() * 8) };
      });
      const sizes = checkPlacement(items, 256, 1 << 30);
      expect(sizes).toHaveLength(1);
      expect(sizes[0]).toBeLessThanOrEqual(1.5 * peakLiveBytes(items) + 256 * items.length);
    }
  });

  it('splits into several arenas when one would pass the size limit, and refuses a buffer over it', () => {
    const items = Array.from({ length: 6 }, () => ({ bytes: 4000, first: 0, last: 3 }));
    const sizes = checkPlacement(items, 256, 9000);
    expect(sizes).toHaveLength(3);
    expect(() => placeInArenas([{ bytes: 9001, first: 0, last: 0 }], 256, 9000)).toThrow(/9001-byte buffer exceeds/);
  });
});
