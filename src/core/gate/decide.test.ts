import { describe, expect, it } from "vitest";
import type { RuleResult } from "../verdict/types.js";
import { decide, type PullDecision } from "./decide.js";
import { BASE_SHA, HEAD_SHA, commit, memoryFacts, policyYaml, type MemoryPull } from "./testing.js";

const NOW = new Date("2026-06-01T00:00:00Z");

async function decided(spec: MemoryPull): Promise<PullDecision> {
  return decide(memoryFacts(spec), { now: NOW });
}

async function evaluated(spec: MemoryPull) {
  const d = await decided(spec);
  if (d.kind !== "evaluated") throw new Error(`expected an evaluation, got ${d.kind}`);
  return d;
}

function ruleStatus(d: { verdict: { rules: RuleResult[] } }, id: string) {
  return d.verdict.rules.find((r) => r.id === id)?.status;
}

describe("decide: which PRs are governed", () => {
  it("no policy at the base: not governed", async () => {
    expect(await decided({ policy: null })).toEqual({ kind: "ungoverned", baseRef: "main" });
  });

  it("a base branch the policy does not name: not governed", async () => {
    expect(await decided({ policy: policyYaml(), baseRef: "dev" })).toEqual({
      kind: "ungoverned",
      baseRef: "dev",
    });
  });

  it("a broken policy fails closed with the adapter's own error to rethrow", async () => {
    const d = await decided({ policy: "version: 1\nbranches: 3\n" });
    expect(d.kind).toBe("incomplete");
    if (d.kind !== "incomplete") return;
    expect(d.cause).toBeInstanceOf(Error);
    expect(d.reason).toContain("pullgate.yml");
  });
});

describe("decide: listings the gate cannot trust", () => {
  it("more files than GitHub lists: incomplete, with how to split", async () => {
    const d = await decided({ policy: policyYaml(), counts: { files: 3_001, commits: 1 } });
    expect(d).toMatchObject({ kind: "incomplete", fix: expect.stringContaining("Split it") as unknown });
  });

  it("more commits than GitHub lists: incomplete, with how to squash", async () => {
    const d = await decided({ policy: policyYaml(), counts: { files: 1, commits: 251 } });
    expect(d).toMatchObject({
      kind: "incomplete",
      fix: expect.stringContaining("Squash or split") as unknown,
    });
  });

  it("a commit listing that does not end at the head is not evaluated", async () => {
    const facts = memoryFacts({ policy: policyYaml() });
    const moved = { ...facts, pull: { ...facts.pull, headSha: "f".repeat(40) } };
    const d = await decide(moved, { now: NOW });
    expect(d).toMatchObject({
      kind: "incomplete",
      reason: expect.stringContaining("does not end at the head") as unknown,
    });
  });
});

describe("decide: record refs", () => {
  it("a PR into approved/production fails whatever its base's policy says, and names no environment", async () => {
    const d = await decided({
      policy: policyYaml(),
      baseRef: "approved/production",
      defaultBranch: "main",
      reviews: [{ user: "bob", state: "APPROVED" }],
      permissions: { bob: "write" },
    });
    expect(d.kind).toBe("record-ref");
    if (d.kind !== "record-ref") return;
    expect(d.verdict.status).toBe("fail");
    expect(d.decision).toMatchObject({
      environment: null,
      approvedBy: [],
      signatures: [],
      baseRef: "approved/production",
    });
    expect(d.decision.reviews).toEqual([{ user: "bob", state: "APPROVED", commitId: HEAD_SHA }]);
  });
});

describe("decide: reviews", () => {
  it("one approval from a writer passes, and the decision names exactly that approver", async () => {
    const d = await evaluated({
      policy: policyYaml(),
      reviews: [{ user: "Bob", state: "APPROVED" }],
      permissions: { bob: "write" },
    });
    expect(d.verdict.status).toBe("pass");
    expect(d.decision).toMatchObject({
      version: 1,
      repository: "acme/app",
      pullRequest: 7,
      headSha: HEAD_SHA,
      headTree: `t${HEAD_SHA.slice(1)}`,
      baseRef: "main",
      baseSha: BASE_SHA,
      environment: "production",
      approvedBy: ["bob"],
      lastPusher: "alice",
      status: "pass",
    });
    expect(d.decision.rules.map((r) => r.id)).toEqual(d.verdict.rules.map((r) => r.id));
  });

  it("the author's own approval does not count", async () => {
    const d = await evaluated({
      policy: policyYaml(),
      reviews: [{ user: "alice", state: "APPROVED" }],
      permissions: { alice: "admin" },
    });
    expect(ruleStatus(d, "approvals")).toBe("fail");
    expect(d.decision.approvedBy).toEqual([]);
  });

  it("an approval from a reader does not count", async () => {
    const d = await evaluated({
      policy: policyYaml(),
      reviews: [{ user: "bob", state: "APPROVED" }],
      permissions: { bob: "read" },
    });
    expect(d.verdict.status).toBe("fail");
  });

  it("an approval of an older head does not count", async () => {
    const d = await evaluated({
      policy: policyYaml(),
      reviews: [{ user: "bob", state: "APPROVED", commitId: "0".repeat(40) }],
      permissions: { bob: "write" },
    });
    expect(ruleStatus(d, "approvals")).toBe("fail");
  });

  it("the last pusher's approval is dropped everywhere, record included, when the policy asks", async () => {
    const d = await evaluated({
      policy: policyYaml({ lastPush: true }),
      reviews: [
        { user: "bob", state: "APPROVED" },
        { user: "carol", state: "APPROVED" },
      ],
      permissions: { bob: "write", carol: "write" },
      lastPusher: "bob",
    });
    expect(d.verdict.status).toBe("pass");
    expect(d.decision.approvedBy).toEqual(["carol"]);
    expect(d.decision.lastPusher).toBe("bob");
  });

  it("without a pusher from the event, the head commit's committer is the pusher", async () => {
    const d = await evaluated({ policy: policyYaml(), commits: [commit("mallory")], lastPusher: null });
    expect(d.decision.lastPusher).toBe("mallory");
  });

  it("code-owner review: only an owner's approval satisfies it", async () => {
    const spec: MemoryPull = {
      policy: policyYaml({ owners: true }),
      files: ["deploy/prod.yaml"],
      codeowners: "/deploy/ @acme/sre\n",
      teamMembers: { "acme/sre": ["carol"] },
      permissions: { bob: "write", carol: "write" },
    };
    const bob = await evaluated({ ...spec, reviews: [{ user: "bob", state: "APPROVED" }] });
    expect(ruleStatus(bob, "codeowners")).toBe("fail");
    const carol = await evaluated({ ...spec, reviews: [{ user: "carol", state: "APPROVED" }] });
    expect(ruleStatus(carol, "codeowners")).toBe("pass");
    expect(carol.verdict.status).toBe("pass");
  });

  it("code-owner review without a CODEOWNERS file says so in a note", async () => {
    const d = await evaluated({ policy: policyYaml({ owners: true }) });
    expect(d.notes).toContain("No CODEOWNERS file on the base branch: code-owner review requires nothing.");
  });
});

describe("decide: signatures and protection", () => {
  it("an unsigned commit fails a policy that requires signatures, and its verdict is recorded", async () => {
    const d = await evaluated({
      policy: policyYaml({ signatures: true }),
      reviews: [{ user: "bob", state: "APPROVED" }],
      permissions: { bob: "write" },
    });
    expect(ruleStatus(d, "signatures")).toBe("fail");
    expect(d.verdict.status).toBe("fail");
    expect(d.decision.signatures).toEqual([{ commit: HEAD_SHA, verified: false, format: "none", key: null }]);
  });

  it("a forged payload (one that does not hash to the SHA) is never verified", async () => {
    const forged = {
      ...commit("alice"),
      payload: "tree x\n\nforged",
      signature: "-----BEGIN PGP SIGNATURE-----\n",
    };
    const d = await evaluated({ policy: policyYaml({ signatures: true }), commits: [forged] });
    expect(d.decision.signatures[0]?.verified).toBe(false);
    expect(ruleStatus(d, "signatures")).toBe("fail");
  });

  it("protection drift the adapter audited is a rule of the verdict", async () => {
    const drift: RuleResult = {
      id: "protection",
      title: "Branch protection",
      status: "fail",
      summary: "drift",
      missing: [],
      satisfied: [],
      fix: [],
    };
    const d = await evaluated({
      policy: policyYaml(),
      reviews: [{ user: "bob", state: "APPROVED" }],
      permissions: { bob: "write" },
      protection: drift,
    });
    expect(ruleStatus(d, "protection")).toBe("fail");
    expect(d.verdict.status).toBe("fail");
  });
});

describe("decide: no plaintext secrets", () => {
  const finding = {
    file: "clusters/prod/db.yaml",
    line: 7,
    rule: "kubernetes-secret" as const,
    message: "a Kubernetes Secret with plaintext stringData.password",
  };

  it("a finding fails the secrets rule, whatever the approvals, and becomes an annotation at its line", async () => {
    const d = await evaluated({
      policy: policyYaml({ approvals: 0, owners: false, signatures: false }),
      files: ["clusters/prod/db.yaml"],
      secretFindings: [finding],
    });
    expect(ruleStatus(d, "secrets")).toBe("fail");
    expect(d.verdict.status).toBe("fail");
    expect(d.annotationBatches.flat()).toEqual([
      expect.objectContaining({ path: "clusters/prod/db.yaml", start_line: 7, end_line: 7 }),
    ]);
  });

  it("no finding: the rule passes and there is nothing to annotate", async () => {
    const d = await evaluated({ policy: policyYaml({ approvals: 0, owners: false, signatures: false }) });
    expect(ruleStatus(d, "secrets")).toBe("pass");
    expect(d.verdict.status).toBe("pass");
    expect(d.annotationBatches).toEqual([]);
  });
});
