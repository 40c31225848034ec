/**
 * The demo as a story for people: one paragraph per step (✔ or ✘, the scenario, what happened,
 * why it matters), then where to look.
 */
import type { DemoReport, DemoStepResult } from "./run.js";
import type { StepDefinition } from "./steps.js";

export function narrateIntro(info: { root: string; apiUrl: string; serverUrl: string }): string {
  return (
    [
      "pullgate demo: a local GitHub (the sandbox) and the real pullgate app, talking over webhooks.",
      `GitHub API ${info.apiUrl}, pullgate at ${info.serverUrl}.`,
      "Org acme, repository acme/gitops: main feeds production; CODEOWNERS gives clusters/prod to @acme/sre (bob)",
      "and the rest to @acme/platform (olivia); alice, bob, olivia and mallory sign commits with SSH keys listed",
      "in .github/pullgate/allowed_signers on main.",
    ].join("\n") + "\n\n"
  );
}

export function narrateStep(step: StepDefinition, result: DemoStepResult, index: number): string {
  return (
    [
      `${result.ok ? "✔" : "✘"} ${index + 1}. ${step.name}: ${step.scenario}`,
      `   ${result.detail}.`,
      `   Why it matters: ${step.why}`,
    ].join("\n") + "\n\n"
  );
}

export function narrateSummary(report: DemoReport, kept: boolean): string {
  const passed = report.steps.filter((s) => s.ok).length;
  const lines = [
    report.ok
      ? `All ${report.steps.length} steps behaved as pullgate must.`
      : `${report.steps.length - passed} of ${report.steps.length} steps did NOT behave as expected: ${report.steps
          .filter((s) => !s.ok)
          .map((s) => s.name)
          .join(", ")}.`,
  ];
  if (report.record !== null) lines.push(`Newest record on approved/${report.environment}: ${report.record}`);
  if (kept) {
    lines.push(
      `Kept: the sandbox's repository ${report.repository}`,
      `      the app's public key ${report.keys}`,
      `Try: pullgate verify --repo ${report.repository} --environment ${report.environment} --keys ${report.keys} --repository acme/gitops`,
    );
  } else {
    lines.push("Everything ran in a temporary directory, now removed (use --keep DIR to look around).");
  }
  return lines.join("\n");
}
