/**
 * A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format at /metrics. Enough for pullgate's handful of series without a client library.
 */
type Labels = Record<string, string>;

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");
}

class Series {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  add(labels: Labels, delta: number): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + delta);
  }

  set(labels: Labels, value: number): void {
    this.values.set(key(labels), value);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [labels, value] of this.values)
      lines.push(`${this.name}${labels ? `{${labels}}` : ""} ${value}`);
    return lines.join("\n");
  }
}

export class Metrics {
  private readonly series = new Map<string, Series>();

  private get(name: string, help: string, type: "counter" | "gauge"): Series {
    let s = this.series.get(name);
    if (!s) {
      s = new Series(name, help, type);
      this.series.set(name, s);
    }
    return s;
  }

  counter(name: string, help: string) {
    const s = this.get(name, help, "counter");
    return { inc: (labels: Labels = {}, delta = 1) => s.add(labels, delta) };
  }

  gauge(name: string, help: string) {
    const s = this.get(name, help, "gauge");
    return { set: (labels: Labels, value: number) => s.set(labels, value) };
  }

  value(name: string, labels: Labels = {}): number {
    return this.series.get(name)?.values.get(key(labels)) ?? 0;
  }

  render(): string {
    return [...this.series.values()].map((s) => s.render()).join("\n") + "\n";
  }
}

/** The series pullgate exports; one registry per server instance. */
export function pullgateMetrics(metrics = new Metrics()) {
  return {
    registry: metrics,
    webhooks: metrics.counter("pullgate_webhooks_total", "Webhook deliveries handled, by event and outcome."),
    evaluations: metrics.counter("pullgate_evaluations_total", "Pull request evaluations, by conclusion."),
    records: metrics.counter("pullgate_records_published_total", "Approved-revision records published."),
    alerts: metrics.counter(
      "pullgate_alerts_total",
      "Commits that reached a governed branch without approval.",
    ),
    webhookBodiesRefused: metrics.counter(
      "pullgate_webhook_bodies_refused_total",
      "Webhook requests answered 413 before their signature was checked, by reason (declared, streamed).",
    ),
    webhookReplaysDropped: metrics.counter(
      "pullgate_webhook_replays_dropped_total",
      "Signed webhook deliveries whose id was already handled or being handled, acknowledged without effect, by state.",
    ),
    webhookLedgerErrors: metrics.counter(
      "pullgate_webhook_ledger_errors_total",
      "Signed webhook deliveries not handled because the delivery ledger (Redis) could not answer (503).",
    ),
    recordsBySource: metrics.counter(
      "pullgate_records_by_source_total",
      "Approved-revision records published, by what found the landing (push: its push event; sweep: the reconciler) or refresh (the reconciler's periodic re-issue of the current record).",
    ),
    refreshesDropped: metrics.counter(
      "pullgate_record_refreshes_dropped_total",
      "Refresh records not published because the record ref moved after the sweep read it (a landing's record won), by environment.",
    ),
    lastSweep: metrics.gauge(
      "pullgate_reconcile_last_success_timestamp_seconds",
      "Unix time of the last reconciliation sweep that completed without errors.",
    ),
    sweepRequests: metrics.gauge(
      "pullgate_reconcile_sweep_requests",
      "GitHub requests the last reconciliation sweep made.",
    ),
    redeliveries: metrics.counter(
      "pullgate_webhook_redeliveries_requested_total",
      "Webhook redeliveries the reconciler asked GitHub for (events whose every attempt failed).",
    ),
    githubRequests: metrics.counter(
      "pullgate_github_requests_total",
      "GitHub API requests, by method and status class.",
    ),
    rateLimitRemaining: metrics.gauge(
      "pullgate_github_ratelimit_remaining",
      "x-ratelimit-remaining of the latest GitHub response, by scope (installation:<id> or app) and resource.",
    ),
    rateLimitLimit: metrics.gauge(
      "pullgate_github_ratelimit_limit",
      "x-ratelimit-limit of the latest GitHub response, by scope and resource.",
    ),
    rateLimitReset: metrics.gauge(
      "pullgate_github_ratelimit_reset_seconds",
      "x-ratelimit-reset (epoch seconds) of the latest GitHub response, by scope and resource.",
    ),
    httpCache: metrics.counter(
      "pullgate_github_conditional_requests_total",
      "Conditional-request cache outcomes: hit (304, not counted against the rate limit), miss, stored.",
    ),
  };
}

export type PullgateMetrics = ReturnType<typeof pullgateMetrics>;

/**
 * The same metrics, with every record the publisher counts also counted under `source` (what
 * found the landing: its push event or the reconciler), catch-up records included.
 */
export function recordsFrom(metrics: PullgateMetrics, source: "push" | "sweep" | "refresh"): PullgateMetrics {
  return {
    ...metrics,
    records: {
      inc: (labels = {}, delta = 1) => {
        metrics.records.inc(labels, delta);
        metrics.recordsBySource.inc({ source }, delta);
      },
    },
  };
}
