import { describe, expect, it } from "vitest";
import type { SignaturePolicy } from "../../src/core/policy/types.js";
import { evaluateSignatures, type CommitSignatureFacts } from "../../src/core/signatures/policy-hooks.js";
import type { SignatureVerdict } from "../../src/core/signatures/types.js";

const FPR = "C4D4E5E17B7BD233F84EE4D3A14D9D290C31CD96";
const BOT = "A047E7EA5DDED4D4CF6114526A4E5B8668F14C75";

const policy = (over: Partial<SignaturePolicy> = {}): SignaturePolicy => ({
  required: true,
  openpgpKeyrings: [".github/pullgate/keys"],
  sshAllowedSigners: ".github/pullgate/allowed_signers",
  trustWebFlow: false,
  signerIdentity: "author_or_committer",
  signerLogins: null,
  scopes: [],
  ...over,
});

const sha = (n: number) => n.toString(16).padStart(40, "a");

function good(n: number, fpr = FPR, email = "alice@example.com"): SignatureVerdict {
  return {
    commit: sha(n),
    verified: true,
    format: "openpgp",
    signer: `${fpr} Alice <${email}>`,
    keyFingerprint: fpr,
    signerEmail: email,
    signerEmails: [email],
    reason: "good signature",
  };
}

function bad(n: number, reason: string): SignatureVerdict {
  return {
    commit: sha(n),
    verified: false,
    format: "none",
    signer: null,
    keyFingerprint: null,
    signerEmail: null,
    reason,
  };
}

const sshGood = (n: number, principal: string): SignatureVerdict => ({
  commit: sha(n),
  verified: true,
  format: "ssh",
  signer: `${principal} (ED25519 SHA256:abc)`,
  keyFingerprint: "SHA256:abc",
  signerEmail: principal.includes("*") ? null : principal,
  signerEmails: principal.includes("*") ? [] : [principal],
  reason: "good",
});

const facts = (
  verdict: SignatureVerdict,
  over: Partial<CommitSignatureFacts> = {},
): CommitSignatureFacts => ({
  sha: verdict.commit,
  verdict,
  authorEmail: "alice@example.com",
  authorLogin: "alice",
  committerEmail: "alice@example.com",
  committerLogin: "alice",
  changedPaths: ["apps/a.yaml"],
  ...over,
});

const prefix = (pattern: string, path: string) =>
  pattern.endsWith("/**") ? path.startsWith(pattern.slice(0, -2)) : pattern === path;

describe("signatures rule", () => {
  it("passes when every commit is verified", () => {
    const r = evaluateSignatures(policy(), [facts(good(1)), facts(good(2))], prefix);
    expect(r).toMatchObject({ id: "signatures", status: "pass", missing: [], fix: [] });
    expect(r.satisfied).toHaveLength(2);
  });

  it("refuses an unsigned commit among signed ones, saying how to fix it", () => {
    const r = evaluateSignatures(policy(), [facts(good(1)), facts(bad(2, "no signature"))], prefix);
    expect(r.status).toBe("fail");
    expect(r.missing).toEqual([{ kind: "signature", commit: sha(2), reason: "no signature", signer: null }]);
    expect(r.fix[0]).toMatch(
      /^Sign commit aaaaaaa with a key listed in \.github\/pullgate\/keys, \.github\/pullgate\/allowed_signers: git commit --amend --no-edit -S/,
    );
  });

  it("refuses a verdict that belongs to another commit (a swapped cache entry)", () => {
    const r = evaluateSignatures(policy(), [facts(good(1), { sha: sha(3) })], prefix);
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({ kind: "signature", commit: sha(3) });
  });

  it("signerIdentity author: a trusted key signing someone else's commit is refused", () => {
    const p = policy({ signerIdentity: "author" });
    expect(evaluateSignatures(p, [facts(good(1), { authorEmail: "ALICE@example.com" })], prefix).status).toBe(
      "pass",
    );
    const r = evaluateSignatures(
      p,
      [facts(good(1), { authorEmail: "mallory@example.com", authorLogin: "mallory" })],
      prefix,
    );
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({
      kind: "signature",
      reason: expect.stringMatching(/is not the author \(mallory@example.com\)/),
    });
    expect(r.fix[0]).toMatch(/--reset-author -S/);
  });

  it("signerIdentity author: a wildcard SSH principal is no identity", () => {
    const p = policy({ signerIdentity: "author" });
    expect(evaluateSignatures(p, [facts(sshGood(1, "alice@example.com"))], prefix).status).toBe("pass");
    expect(evaluateSignatures(p, [facts(sshGood(1, "*@example.com"))], prefix).status).toBe("fail");
  });

  it("scopes: a scoped key may only change its paths; unscoped keys are not restricted", () => {
    const p = policy({ scopes: [{ signers: [BOT], paths: ["clusters/dev/**"] }] });
    expect(
      evaluateSignatures(p, [facts(good(1, BOT), { changedPaths: ["clusters/dev/app.yaml"] })], prefix)
        .status,
    ).toBe("pass");
    const r = evaluateSignatures(
      p,
      [facts(good(1, BOT), { changedPaths: ["clusters/dev/app.yaml", "clusters/prod/app.yaml"] })],
      prefix,
    );
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({
      reason: expect.stringMatching(/commit changes clusters\/prod\/app.yaml/),
    });
    expect(
      evaluateSignatures(p, [facts(good(1, FPR), { changedPaths: ["clusters/prod/app.yaml"] })], prefix)
        .status,
    ).toBe("pass");
  });

  it("scopes: SSH principals scope too, and unknown changed paths fail closed", () => {
    const p = policy({ scopes: [{ signers: ["ci@example.com"], paths: ["apps/**"] }] });
    // The CI bot commits what it signs (committer), on behalf of alice (author).
    const ci = { committerEmail: "ci@example.com", committerLogin: "ci-bot" };
    expect(evaluateSignatures(p, [facts(sshGood(1, "ci@example.com"), ci)], prefix).status).toBe("pass");
    expect(
      evaluateSignatures(
        p,
        [facts(sshGood(1, "ci@example.com"), { ...ci, changedPaths: ["policy.yml"] })],
        prefix,
      ).status,
    ).toBe("fail");
    expect(
      evaluateSignatures(p, [facts(sshGood(1, "ci@example.com"), { ...ci, changedPaths: undefined })], prefix)
        .status,
    ).toBe("fail");
  });

  it("web-flow merges are trusted only with trustWebFlow, and only when their signature verified", () => {
    const webflow = facts(bad(1, "signed by unknown key 4AEE18F83AFDEB23"), {
      isWebFlowMerge: true,
      authorEmail: "noreply@github.com",
    });
    expect(evaluateSignatures(policy(), [webflow], prefix).status).toBe("fail");
    expect(evaluateSignatures(policy({ trustWebFlow: true }), [webflow], prefix).status).toBe("fail");
    const verifiedWebflow = facts(good(1, "968479A1AFF927E37D1A566BB5690EEEBB952194", "noreply@github.com"), {
      isWebFlowMerge: true,
      authorEmail: "alice@example.com",
    });
    expect(
      evaluateSignatures(policy({ trustWebFlow: true, signerIdentity: "author" }), [verifiedWebflow], prefix)
        .status,
    ).toBe("pass");
    // Without trustWebFlow the same commit is judged as any other (author mismatch here).
    expect(evaluateSignatures(policy({ signerIdentity: "author" }), [verifiedWebflow], prefix).status).toBe(
      "fail",
    );
  });

  it("not required: passes, listing what is signed", () => {
    const r = evaluateSignatures(
      policy({ required: false }),
      [facts(bad(1, "no signature")), facts(good(2))],
      prefix,
    );
    expect(r.status).toBe("pass");
    expect(r.satisfied).toHaveLength(1);
  });

  it("no commits at all is an error, not a pass", () => {
    expect(evaluateSignatures(policy(), [], prefix)).toMatchObject({
      status: "error",
      missing: [{ kind: "facts" }],
    });
  });
});
