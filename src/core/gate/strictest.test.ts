import { describe, expect, it } from "vitest";
import { pickStrictest, type OutcomeKind, type PullOutcome } from "./strictest.js";

function pull(number: number, outcome: OutcomeKind): PullOutcome<string> {
  return { number, outcome, value: `#${number}` };
}

const pass = (baseRef: string): OutcomeKind => ({ kind: "evaluated", baseRef, status: "pass" });
const fail = (baseRef: string): OutcomeKind => ({ kind: "evaluated", baseRef, status: "fail" });

describe("pickStrictest: one check per commit reports the strictest PR with that head", () => {
  it("a second PR into an ungoverned branch cannot turn a failing check neutral", () => {
    const { reported, notes } = pickStrictest([
      pull(2, { kind: "ungoverned", baseRef: "dev" }),
      pull(1, fail("main")),
    ]);
    expect(reported.value).toBe("#1");
    expect(notes).toEqual([
      "This head is also the head of #2 into dev: not governed. A check belongs to the commit, so it reports #1, the strictest.",
    ]);
  });

  it("a passing PR into a weaker branch cannot turn a failing one green", () => {
    expect(pickStrictest([pull(2, pass("staging")), pull(1, fail("main"))]).reported.number).toBe(1);
  });

  it("a PR into a record ref beats every other failure", () => {
    const all = [pull(1, fail("main")), pull(3, { kind: "record-ref", baseRef: "approved/production" })];
    const { reported, notes } = pickStrictest(all);
    expect(reported.number).toBe(3);
    expect(notes[0]).toContain("#1 into main: does not pass");
  });

  it("all passing: the event's own PR when governed, else the first governed one", () => {
    expect(pickStrictest([pull(1, pass("main")), pull(2, pass("prod"))]).reported.number).toBe(1);
    expect(
      pickStrictest([pull(1, { kind: "ungoverned", baseRef: "dev" }), pull(2, pass("main"))]).reported.number,
    ).toBe(2);
  });

  it("nothing governed: the event's own PR, with no notes when it is alone", () => {
    const { reported, notes } = pickStrictest([pull(4, { kind: "ungoverned", baseRef: "dev" })]);
    expect(reported.number).toBe(4);
    expect(notes).toEqual([]);
  });

  it("refuses an empty list rather than report nothing", () => {
    expect(() => pickStrictest([])).toThrow();
  });
});
