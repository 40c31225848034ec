import { describe, expect, it } from "vitest";
import {
  ApiBudget,
  DEGRADE_ORDER,
  admit,
  attachBudget,
  budgetFor,
  installationScope,
  readRateLimit,
} from "./index.js";

const NOW = 1_800_000_000_000;
const RESET = NOW / 1000 + 1800;

function headers(values: Record<string, string>): { get(name: string): string | null } {
  return { get: (name) => values[name] ?? null };
}

function snapshot(remaining: number, limit = 5000) {
  return { limit, remaining, reset: RESET, resource: "core", observedAt: NOW };
}

describe("readRateLimit", () => {
  it("reads GitHub's rate-limit headers", () => {
    const s = readRateLimit(
      headers({
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4321",
        "x-ratelimit-reset": String(RESET),
        "x-ratelimit-resource": "graphql",
      }),
      NOW,
    );
    expect(s).toEqual({ limit: 5000, remaining: 4321, reset: RESET, resource: "graphql", observedAt: NOW });
  });

  it("has nothing to say about a response without them, or with a garbled remaining", () => {
    expect(readRateLimit(headers({}), NOW)).toBeUndefined();
    expect(readRateLimit(headers({ "x-ratelimit-remaining": "lots" }), NOW)).toBeUndefined();
  });

  it("defaults resource to core and a missing limit to what remains", () => {
    const s = readRateLimit(
      headers({ "x-ratelimit-remaining": "10", "x-ratelimit-reset": String(RESET) }),
      NOW,
    );
    expect(s?.resource).toBe("core");
    expect(s?.limit).toBe(10);
  });
});

describe("admit: the degrade order", () => {
  it("is sweeps, then audits, then checks and records", () => {
    expect(DEGRADE_ORDER).toEqual(["sweep", "audit", "check", "record"]);
  });

  it("holds back sweeps first, then audits, as the window runs down; never checks or records while any is left", () => {
    const table = [5000, 1501, 1500, 751, 750, 1].map((remaining) => ({
      remaining,
      go: DEGRADE_ORDER.map((kind) => admit(kind, snapshot(remaining), NOW).go),
    }));
    expect(table).toEqual([
      { remaining: 5000, go: [true, true, true, true] },
      { remaining: 1501, go: [true, true, true, true] },
      { remaining: 1500, go: [false, true, true, true] },
      { remaining: 751, go: [false, true, true, true] },
      { remaining: 750, go: [false, false, true, true] },
      { remaining: 1, go: [false, false, true, true] },
    ]);
  });

  it("at zero nothing starts; the refusal says why and when to ask again", () => {
    for (const kind of DEGRADE_ORDER) {
      const a = admit(kind, snapshot(0), NOW);
      expect(a.go).toBe(false);
      if (!a.go) {
        expect(a.retryAt).toBe(RESET * 1000);
        expect(a.reason).toContain("only 0 of 5000");
      }
    }
  });

  it("checks and records ignore the caller's extra reserve (only GitHub's refusal stops them)", () => {
    expect(admit("check", snapshot(5), NOW, 100).go).toBe(true);
    expect(admit("record", snapshot(5), NOW, 100).go).toBe(true);
    expect(admit("audit", snapshot(4000), NOW, 4000).go).toBe(false);
  });

  it("admits when nothing is known or the window has reset since", () => {
    expect(admit("sweep", undefined, NOW).go).toBe(true);
    expect(admit("sweep", snapshot(0), RESET * 1000).go).toBe(true);
  });
});

describe("ApiBudget", () => {
  const h = (remaining: number, resource = "core") =>
    headers({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset": String(RESET),
      "x-ratelimit-resource": resource,
    });

  it("keeps the latest figures per scope and resource, and tells listeners", () => {
    const budget = new ApiBudget(10, () => NOW);
    const heard: string[] = [];
    budget.onObserve((scope, s) => heard.push(`${scope}/${s.resource}=${s.remaining}`));
    budget.observe("installation:1", h(100));
    budget.observe("installation:1", h(4000, "graphql"));
    budget.observe("installation:2", h(4999));
    budget.observe("installation:1", h(90));
    budget.observe("installation:1", headers({}));
    expect(budget.snapshot("installation:1")?.remaining).toBe(90);
    expect(budget.snapshot("installation:1", "graphql")?.remaining).toBe(4000);
    expect(budget.admit("audit", "installation:1").go).toBe(false);
    expect(budget.admit("check", "installation:1").go).toBe(true);
    expect(budget.admit("sweep", "installation:2").go).toBe(true);
    expect(heard).toEqual([
      "installation:1/core=100",
      "installation:1/graphql=4000",
      "installation:2/core=4999",
      "installation:1/core=90",
    ]);
  });

  it("is bounded: the scope observed longest ago is forgotten (which admits)", () => {
    const budget = new ApiBudget(2, () => NOW);
    budget.observe("a", h(0));
    budget.observe("b", h(0));
    budget.observe("a", h(0)); // a is now the most recent
    budget.observe("c", h(0));
    expect(budget.snapshot("b")).toBeUndefined();
    expect(budget.snapshot("a")?.remaining).toBe(0);
    expect(budget.admit("sweep", "b").go).toBe(true);
    expect(budget.admit("sweep", "a").go).toBe(false);
  });

  it("an attached client answers for its own scope only", () => {
    const budget = new ApiBudget(10, () => NOW);
    const one = {};
    const two = {};
    attachBudget(one, budget, installationScope(1));
    attachBudget(two, budget, installationScope(2));
    budget.observe("installation:1", h(10));
    expect(budgetFor(one)?.admit("audit").go).toBe(false);
    expect(budgetFor(two)?.admit("audit").go).toBe(true);
    expect(budgetFor({})).toBeUndefined();
    expect(installationScope(undefined)).toBe("app");
  });
});
