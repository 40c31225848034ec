/**
 * End to end, the reconciler's first crash scenario, kept short for `npm test` (the reliability
 * suite runs it with the others, test/reliability/reconcile-crash.test.ts): the app is SIGKILLed,
 * three approved PRs are merged and one commit is pushed straight to main while it is down, and a
 * restarted replica recovers within its first sweep: exactly one record per approved landing, in
 * landing order, a chain the agent's verifier and `git verify-commit` accept, no record for the
 * direct push and exactly one alert for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../reliability/support/cluster.js";
import {
  metricValue,
  runOutageScenario,
  type OutageResult,
} from "../reliability/support/reconcile-outage.js";

describe("e2e: a landing made while the app is down still gets its record (reconciler)", () => {
  let c: Cluster;
  let r: OutageResult;

  beforeAll(async () => {
    c = await startCluster({ replicas: 0, server: { reconcileIntervalMs: 10 * 60_000 } });
    r = await runOutageScenario(c);
  });
  afterAll(async () => {
    await c?.close();
  });

  it("one record per approved landing, in order, and a chain every verifier accepts", () => {
    expect(r.chain.records.map((x) => x.fields.sourceCommit)).toEqual(r.landed);
    expect(r.chain.records.map((x) => x.fields.sequence)).toEqual([1, 2, 3, 4]);
    expect(r.chain.agentRefusals).toEqual([]);
    expect(r.chain.gpgFailures).toEqual([]);
    expect(r.chain.records.some((x) => x.fields.sourceCommit === r.directPush)).toBe(false);
  });

  it("the direct push made during the outage is alerted exactly once", () => {
    expect(r.alertIssues).toBe(1);
    expect(r.alertMentions).toBe(1);
  });

  it("the restarted replica reports its sweep on /metrics", () => {
    expect(metricValue(r.metrics, "pullgate_reconcile_last_success_timestamp_seconds")).toBeGreaterThan(0);
    const bySweep = metricValue(r.metrics, 'pullgate_records_by_source_total{source="sweep"}');
    const byPush = metricValue(r.metrics, 'pullgate_records_by_source_total{source="push"}');
    // The three missing records came from the sweep or from redelivered push events, never both.
    expect(bySweep + byPush).toBe(3);
  });
});
