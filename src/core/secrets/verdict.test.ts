import { describe, expect, it } from "vitest";
import { matchesPattern } from "../reviews/pattern.js";
import { scanFiles } from "./scan.js";
import type { SecretFinding } from "./types.js";
import { ANNOTATIONS_PER_REQUEST, secretsRule } from "./verdict.js";

const finding = (i: number): SecretFinding => ({
  file: `apps/f${String(Math.floor(i / 10)).padStart(3, "0")}.yaml`,
  line: (i % 10) + 1,
  rule: "kubernetes-secret",
  message: `Secret stringData.k${i} is in plaintext.`,
});

describe("secretsRule", () => {
  it("passes with no findings and lists allow-listed files as notes", () => {
    const verdict = secretsRule({
      enabled: true,
      findings: [],
      scannedFiles: 3,
      allowedFiles: ["test/a.yaml"],
    });
    expect(verdict.result.status).toBe("pass");
    expect(verdict.result.summary).toContain("3 changed file(s)");
    expect(verdict.result.notes).toEqual(["Not scanned (secrets.allow): test/a.yaml."]);
    expect(verdict.annotationBatches).toEqual([]);
  });

  it("passes, saying so, when disabled", () => {
    const verdict = secretsRule({
      enabled: false,
      findings: [finding(0)],
      scannedFiles: 1,
      allowedFiles: [],
    });
    expect(verdict.result.status).toBe("pass");
    expect(verdict.result.summary).toContain("secrets.enabled: false");
    expect(verdict.annotationBatches).toEqual([]);
  });

  it("fails with one failure annotation per finding at its file and line", () => {
    const verdict = secretsRule({
      enabled: true,
      findings: [finding(0), finding(13)],
      scannedFiles: 2,
      allowedFiles: [],
    });
    expect(verdict.result.status).toBe("fail");
    expect(verdict.result.summary).toBe("2 plaintext credential(s) in 2 file(s).");
    expect(verdict.annotationBatches).toEqual([
      [
        {
          path: "apps/f000.yaml",
          start_line: 1,
          end_line: 1,
          annotation_level: "failure",
          title: "Plaintext secret (kubernetes-secret)",
          message: "Secret stringData.k0 is in plaintext.",
        },
        {
          path: "apps/f001.yaml",
          start_line: 4,
          end_line: 4,
          annotation_level: "failure",
          title: "Plaintext secret (kubernetes-secret)",
          message: "Secret stringData.k13 is in plaintext.",
        },
      ],
    ]);
  });

  it.each([
    [1, [1]],
    [50, [50]],
    [51, [50, 1]],
    [120, [50, 50, 20]],
  ])("batches %i annotations as %j (GitHub takes at most 50 per request)", (count, sizes) => {
    const findings = Array.from({ length: count }, (_, i) => finding(i));
    const verdict = secretsRule({ enabled: true, findings, scannedFiles: count, allowedFiles: [] });
    expect(ANNOTATIONS_PER_REQUEST).toBe(50);
    expect(verdict.annotationBatches.map((b) => b.length)).toEqual(sizes);
    // Every finding is annotated exactly once, in order.
    expect(verdict.annotationBatches.flat().map((a) => a.message)).toEqual(findings.map((f) => f.message));
    // The summary notes list at most 20 findings and point at the annotations for the rest.
    const notes = verdict.result.notes ?? [];
    expect(notes.length).toBe(Math.min(count, 20) + (count > 20 ? 1 : 0));
    if (count > 20) expect(notes[20]).toBe(`and ${count - 20} more (see the annotations)`);
  });

  it("errors (fails closed) when the facts are incomplete, whatever the findings", () => {
    for (const findings of [[], [finding(0)]]) {
      const verdict = secretsRule({
        enabled: true,
        findings,
        scannedFiles: 1,
        allowedFiles: [],
        factsError: "x",
      });
      expect(verdict.result.status).toBe("error");
      expect(verdict.result.missing).toEqual([{ kind: "facts", reason: "x" }]);
    }
  });

  it("takes scanFiles' result as is: a file too large to scan makes the rule error", () => {
    const big = "a: b\n".repeat(300_000);
    const verdict = secretsRule({
      enabled: true,
      ...scanFiles({ files: [{ path: "big.yaml", text: big }], allow: [], matchesPattern }),
    });
    expect(verdict.result.status).toBe("error");
  });
});
