/**
 * One benchmark measurement, as `npm run bench -- --json` prints it (docs/architecture.md,
 * "CLI contract").
 */
export type BenchResult = {
  /** Stable dotted name, e.g. "codeowners.lookup_3000_paths". */
  name: string;
  value: number;
  /** "ms", "rules", ... */
  unit: string;
  /** The bound the value must meet: at most this, or at least this when `higherIsBetter`. */
  target: number;
  /** value <= target (value >= target for throughputs). */
  ok: boolean;
  /** Throughputs (per second) must reach their target; shown in the table, not part of the JSON. */
  higherIsBetter?: boolean;
  /** The value before the change that set the target (shown in the table, not part of the JSON). */
  before?: number;
};

/** A result whose `ok` follows from value and target ("lower is better"). */
export function atMost(name: string, value: number, unit: string, target: number): BenchResult {
  return { name, value: Math.round(value * 1000) / 1000, unit, target, ok: value <= target };
}

/** A throughput result ("per second": higher is better), ok when value >= target. */
export function atLeast(name: string, value: number, unit: string, target: number): BenchResult {
  return {
    name,
    value: Math.round(value * 10) / 10,
    unit,
    target,
    ok: value >= target,
    higherIsBetter: true,
  };
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

/**
 * Best wall time of `runs` calls of an async function after `warmup` unmeasured ones, in
 * milliseconds (see bestOfMs for why the minimum).
 */
export async function bestOfMsAsync(fn: () => Promise<unknown>, runs = 10, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}
