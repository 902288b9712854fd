// Times one call as the benches report it: a first run (pipelines compiled, buffers made), then `runs`
// warm runs, summarised by their median, min and max (milliseconds, wall clock).
export interface WarmTimes {
  readonly firstMs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export async function warmRuns(run: () => Promise<unknown>, runs: number): Promise<WarmTimes> {
  let t = performance.now();
  await run();
  const firstMs = performance.now() - t;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { firstMs, medianMs: ms[Math.floor(ms.length / 2)], minMs: ms[0], maxMs: ms.at(-1)! };
}
