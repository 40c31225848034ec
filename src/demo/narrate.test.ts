import { describe, expect, it } from "vitest";
import { narrateStep, narrateSummary } from "./narrate.js";
import { Observations } from "./observations.js";
import { STEPS, STEP_NAMES } from "./steps.js";

describe("demo observations", () => {
  it("is ok only when every expectation held, and says which did not", () => {
    const seen = new Observations();
    seen.note("PR #1 opened");
    expect(seen.expect(true, "never shown")).toBe(true);
    expect(seen.ok).toBe(true);
    expect(seen.detail()).toBe("PR #1 opened");
    expect(seen.expect(false, "the check should fail")).toBe(false);
    seen.fail("error: boom");
    expect(seen.ok).toBe(false);
    expect(seen.detail()).toBe("PR #1 opened. NOT AS EXPECTED: the check should fail; error: boom");
  });
});

describe("demo narration", () => {
  it("has one step definition per contract step name, in order", () => {
    expect(STEPS.map((s) => s.name)).toEqual([...STEP_NAMES]);
  });

  it("tells each step as a paragraph: mark, scenario, what happened, why it matters", () => {
    const step = STEPS[0];
    if (step === undefined) throw new Error("no steps");
    const passed = narrateStep(step, { name: step.name, ok: true, detail: "blocked" }, 0);
    expect(passed.split("\n")).toEqual([
      `✔ 1. ${step.name}: ${step.scenario}`,
      "   blocked.",
      `   Why it matters: ${step.why}`,
      "",
      "",
    ]);
    expect(narrateStep(step, { name: step.name, ok: false, detail: "passed" }, 0)).toMatch(/^✘ 1\. /);
  });

  it("sums up failures by name and says where kept data is", () => {
    const report = {
      ok: false,
      steps: [
        { name: "unsigned-commit-blocked" as const, ok: true, detail: "" },
        { name: "agent-verifies" as const, ok: false, detail: "" },
      ],
      repository: "/d/sandbox/repos/acme/gitops.git",
      environment: "production",
      keys: "/d/app-public.asc",
      record: null,
    };
    const text = narrateSummary(report, true);
    expect(text).toContain("1 of 2 steps did NOT behave as expected: agent-verifies.");
    expect(text).toContain(
      "--repo /d/sandbox/repos/acme/gitops.git --environment production --keys /d/app-public.asc",
    );
    expect(narrateSummary({ ...report, ok: true, steps: [] }, false)).toContain("temporary directory");
  });
});
