/**
 * The freshness contract between the app and its agents (docs/agents.md, "Freshness: --max-age"):
 * the app re-issues the current record of each environment every `records.refresh_interval`
 * (default 24h), and agents refuse a record older than twice that plus a margin. Twice: one missed
 * refresh (the app down for a deploy, a GitHub outage) must not page anyone; the margin covers the
 * time a refresh takes to be published and fetched (reconciler period, agent --interval, clock skew).
 * Shared by the policy default and by `pullgate verify` / `pullgate agent`, so the two never drift.
 */

export const DEFAULT_REFRESH_INTERVAL_MS = 24 * 3_600_000;

/** Added to 2 × the refresh interval: 2h, far above any reconciler period or agent interval. */
export const MAX_AGE_MARGIN_MS = 2 * 3_600_000;

/** The default --max-age for a refresh interval: 24h gives 50h. */
export function defaultMaxAgeMs(refreshIntervalMs: number = DEFAULT_REFRESH_INTERVAL_MS): number {
  return 2 * refreshIntervalMs + MAX_AGE_MARGIN_MS;
}
