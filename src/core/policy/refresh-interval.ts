/**
 * `records.refresh_interval` (docs/policy.md, "Records"): how often the app re-issues the current
 * record of each environment, so that agents can refuse a frozen mirror with --max-age without a
 * quiet week looking like a freeze. "0" turns refreshing off. The agents' default --max-age is
 * derived from the same default (2 × 24h + a margin), so the two must not drift.
 */

/** The built-in value, as the policy writes it. */
export const DEFAULT_REFRESH_INTERVAL = "24h";
export const DEFAULT_REFRESH_INTERVAL_MS = 24 * 3_600_000;

/**
 * Shorter intervals only add records: one refresh an hour is far more than any agent's --max-age
 * needs, and keeps a misconfigured policy from writing a commit per sweep.
 */
export const MIN_REFRESH_INTERVAL_MS = 3_600_000;
export const MAX_REFRESH_INTERVAL_MS = 365 * 86_400_000;

/** The schema's pattern: "0", or a whole number and one unit (s, m, h, d). */
export const REFRESH_INTERVAL_PATTERN = "^(?:0|[1-9][0-9]{0,8}[smhd])$";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds (0: off), or null when the text is not "0" or a duration like "24h". */
export function parseRefreshInterval(text: string): number | null {
  if (text === "0") return 0;
  const m = /^([1-9][0-9]{0,8})([smhd])$/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Why a parsed interval is out of range, or null. */
export function refreshIntervalProblem(ms: number): string | null {
  if (ms === 0) return null;
  if (ms < MIN_REFRESH_INTERVAL_MS) return "must be at least 1h (or 0 to turn refreshing off)";
  if (ms > MAX_REFRESH_INTERVAL_MS) return "must be at most 365d";
  return null;
}

/** Ordering for the merge: a shorter interval is stricter; 0 (off) is the loosest of all. */
export function refreshLooserThan(candidate: number, baseline: number): boolean {
  if (baseline === 0) return false;
  return candidate === 0 || candidate > baseline;
}
