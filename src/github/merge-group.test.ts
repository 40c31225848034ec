import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pullNumbersFromQueueRef } from "./merge-group.js";

const SHA = "bc3e3a74a0b19dc5c0d7451fb03df3c11a8ab4c6";

describe("pullNumbersFromQueueRef", () => {
  it("reads GitHub's merge-queue ref", () => {
    expect(
      pullNumbersFromQueueRef(`refs/heads/gh-readonly-queue/main/pr-104-${SHA}`, "refs/heads/main"),
    ).toEqual([104]);
    expect(
      pullNumbersFromQueueRef(`refs/heads/gh-readonly-queue/release/v2/pr-7-${SHA}`, "refs/heads/release/v2"),
    ).toEqual([7]);
  });

  it("names nothing when the ref is not a queue ref for that base, or is malformed (fail closed)", () => {
    for (const [ref, base] of [
      [`refs/heads/gh-readonly-queue/main/pr-104-${SHA}`, "refs/heads/release"],
      [`refs/heads/gh-readonly-queue/mainline/pr-104-${SHA}`, "refs/heads/main"],
      [`refs/heads/feature/pr-104-${SHA}`, "refs/heads/main"],
      [`refs/heads/gh-readonly-queue/main/pr-104`, "refs/heads/main"],
      [`refs/heads/gh-readonly-queue/main/pr-0-${SHA}`, "refs/heads/main"],
      [`refs/heads/gh-readonly-queue/main/pr--1-${SHA}`, "refs/heads/main"],
      [`refs/heads/gh-readonly-queue/main/x/pr-104-${SHA}`, "refs/heads/main"],
      [`refs/heads/gh-readonly-queue/main/pr-99999999999999999999-${SHA}`, "refs/heads/main"],
    ] as const) {
      expect(pullNumbersFromQueueRef(ref, base), ref).toEqual([]);
    }
  });

  it("property: round-trips any branch and PR number; any other input gives none or one positive number", () => {
    const branch = fc.stringMatching(/^[a-z0-9][a-z0-9._/-]{0,30}$/).filter((b) => !b.endsWith("/"));
    const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
    fc.assert(
      fc.property(branch, fc.integer({ min: 1, max: 2 ** 31 }), sha, (b, n, s) => {
        expect(
          pullNumbersFromQueueRef(`refs/heads/gh-readonly-queue/${b}/pr-${n}-${s}`, `refs/heads/${b}`),
        ).toEqual([n]);
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (ref, base) => {
        const out = pullNumbersFromQueueRef(ref, base);
        expect(out.length).toBeLessThanOrEqual(1);
        for (const n of out) expect(Number.isSafeInteger(n) && n > 0).toBe(true);
      }),
    );
  });
});
