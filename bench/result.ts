/** One benchmark measurement, as `npm run bench -- --json` prints it (DESIGN.md §6). */
export type BenchResult = {
  /** Stable dotted name, e.g. "codeowners.lookup_3000_paths". */
  name: string;
  value: number;
  /** "ms", "rules", ... */
  unit: string;
  /** The value must not exceed this. */
  target: number;
  /** value <= target. */
  ok: boolean;
};

/** A result whose `ok` follows from value and target ("lower is better"). */
export function atMost(name: string, value: number, unit: string, target: number): BenchResult {
  return { name, value: Math.round(value * 1000) / 1000, unit, target, ok: value <= target };
}

/**
 * Best wall time of `runs` calls after `warmup` unmeasured ones, in milliseconds. The minimum, not
 * the median: benchmarks run on shared CI machines where other jobs only ever add time, so the
 * best run is the stable estimate of what the code itself costs (GC included when it recurs).
 */
export function bestOfMs(fn: () => void, runs = 20, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
