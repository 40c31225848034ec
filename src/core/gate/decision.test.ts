import { describe, expect, it } from "vitest";
import { combineVerdict, factsError } from "../verdict/combine.js";
import { buildDecision, decodeDecision, emptyDecision, encodeDecision } from "./decision.js";

const subject = { repository: "acme/app", pullRequest: 3, headSha: "a".repeat(40), lastPusher: "bob" };

describe("the Decision builders", () => {
  it("a check that failed closed carries its subject, the verdict and nothing else", () => {
    const verdict = combineVerdict(subject.headSha, "unknown", [factsError("GitHub answered HTTP 502")]);
    const d = emptyDecision(subject, verdict);
    expect(d).toEqual({
      version: 1,
      repository: "acme/app",
      pullRequest: 3,
      headSha: subject.headSha,
      headTree: null,
      baseRef: "",
      baseSha: "",
      environment: null,
      policyDigest: "unknown",
      approvedBy: [],
      reviews: [],
      signatures: [],
      lastPusher: "bob",
      status: "error",
      rules: [{ id: verdict.rules[0]?.id, status: "error" }],
    });
    expect(decodeDecision(encodeDecision(d))).toEqual(d);
  });

  it("approvers are lowercased, deduplicated and sorted; review and signature fields are copied, nothing more", () => {
    const verdict = combineVerdict(subject.headSha, "sha256:p", []);
    const d = buildDecision(subject, verdict, {
      approvedBy: ["Carol", "bob", "carol"],
      reviews: [{ user: "Carol", state: "APPROVED", commitId: subject.headSha, id: 9 } as never],
      signatures: [{ commit: subject.headSha, verified: true, format: "ssh", keyFingerprint: "SHA256:k" }],
    });
    expect(d.approvedBy).toEqual(["bob", "carol"]);
    expect(d.reviews).toEqual([{ user: "Carol", state: "APPROVED", commitId: subject.headSha }]);
    expect(d.signatures).toEqual([
      { commit: subject.headSha, verified: true, format: "ssh", key: "SHA256:k" },
    ]);
  });
});
