/** Durations for --interval and --max-age: "30s", "15m", "24h", "7d" (one unit, whole numbers). */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^([1-9][0-9]{0,8})(s|m|h|d)$/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * The largest unit that divides MS exactly, days only from 2d: 180000000 → "50h", 86400000 → "24h"
 * (the refresh interval reads as the policy writes it), 90000 → "90s".
 */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (unit === "d" && ms < 2 * UNIT_MS.d) continue;
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
