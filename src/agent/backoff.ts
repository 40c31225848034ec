/**
 * Retry pacing for a failing --exec (docs/agents.md, "Failures and retries"). Re-running a failing
 * `kubectl apply` on every tick hammers the API server and floods the log; waiting doubles after each
 * failure of the same tree, up to a cap, and a different tree (a new record) is tried at once.
 * Fetch and verification still run every tick: freshness alarms must not wait for the backoff.
 */

export class ExecBackoff {
  private tree: string | null = null;
  private failures = 0;
  private notBefore = 0;

  constructor(
    /** The first retry waits 2 × base (not the next tick), then 4 ×, 8 × ... */
    readonly baseMs: number,
    readonly capMs: number,
  ) {}

  /** When a deploy of TREE may run again: null means now. */
  retryAt(tree: string, nowMs: number): number | null {
    if (this.tree !== tree || nowMs >= this.notBefore) return null;
    return this.notBefore;
  }

  /** Records a failure of TREE at nowMs; returns the delay before the next attempt. */
  failed(tree: string, nowMs: number): number {
    if (this.tree !== tree) {
      this.tree = tree;
      this.failures = 0;
    }
    this.failures++;
    const delay = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.notBefore = nowMs + delay;
    return delay;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  succeeded(): void {
    this.tree = null;
    this.failures = 0;
    this.notBefore = 0;
  }
}
