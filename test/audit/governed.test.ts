import { describe, expect, it } from "vitest";
import type { BranchPolicy, Policy, ProtectionMode } from "../../src/core/policy/types.js";
import {
  entryFor,
  governedBranches,
  hasGlobBranches,
  literalBranches,
  recordRefs,
} from "../../src/github/protection/governed.js";

function entry(branch: string, environment: string, mode: ProtectionMode = "audit"): BranchPolicy {
  return {
    branch,
    environment,
    signatures: {
      required: true,
      openpgpKeyrings: [],
      sshAllowedSigners: null,
      trustWebFlow: false,
      signerIdentity: "author_or_committer",
      signerLogins: null,
      scopes: [],
    },
    reviews: {
      requiredApprovals: 1,
      requireCodeOwnerReview: true,
      dismissStaleApprovals: true,
      requireLastPushApproval: false,
    },
    pathRules: [],
    protection: {
      mode,
      requirePullRequest: true,
      requiredApprovals: 1,
      requireCodeOwnerReview: true,
      dismissStaleReviews: true,
      requireLastPushApproval: false,
      requireSignedCommits: true,
      requirePullgateCheck: true,
      requireUpToDate: true,
      allowForcePushes: false,
      allowDeletions: false,
      enforceAdmins: true,
      allowedBypass: [],
    },
    secrets: { enabled: true, allow: [] },
  };
}

function policy(branches: BranchPolicy[]): Policy {
  return {
    version: 1,
    admins: [],
    sensitivePaths: [],
    recordRefPrefix: "approved/",
    recordRefreshIntervalMs: 0,
    branches,
  };
}

describe("governed branches", () => {
  const p = policy([entry("main", "production"), entry("release/*", "staging"), entry("**", "dev", "off")]);

  it("first matching entry wins, * stays within a segment, ** crosses it", () => {
    expect(entryFor(p, "main")?.environment).toBe("production");
    expect(entryFor(p, "release/1.2")?.environment).toBe("staging");
    expect(entryFor(p, "release/1.2/hotfix")?.environment).toBe("dev");
    expect(entryFor(p, "refs/heads/main")).toBeNull();
  });

  it("never governs record refs as ordinary branches, even under **", () => {
    const governed = governedBranches(p, ["main", "approved/production", "release/2", "feature/x", "main"]);
    expect(governed.map((g) => [g.branch, g.entry.environment])).toEqual([
      ["feature/x", "dev"],
      ["main", "production"],
      ["release/2", "staging"],
    ]);
  });

  it("treats regex metacharacters in patterns literally", () => {
    const q = policy([entry("rel.1", "x")]);
    expect(entryFor(q, "relx1")).toBeNull();
    expect(entryFor(q, "rel.1")?.environment).toBe("x");
  });

  it("knows when a listing is needed", () => {
    expect(hasGlobBranches(p)).toBe(true);
    expect(hasGlobBranches(policy([entry("main", "production")]))).toBe(false);
    expect(literalBranches(p)).toEqual(["main"]);
  });

  it("checks one record ref per environment whose protection is on, with the strictest mode", () => {
    const q = policy([
      entry("main", "production", "audit"),
      entry("hotfix", "production", "enforce"),
      entry("dev", "dev", "off"),
    ]);
    expect(recordRefs(q)).toEqual([
      { ref: "approved/production", environment: "production", mode: "enforce" },
    ]);
  });
});
