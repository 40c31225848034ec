/**
 * The policy pipeline every evaluation and every governed push runs: parse the org's and the
 * repository's `.github/pullgate.yml` (YAML with positions, JSON Schema validation, semantic
 * checks), merge them (the repository may only tighten), and digest the result (the digest is
 * named in every record). The texts are realistic and large: the org floor from
 * policies/examples/org-wide.yml and a repository file with several environments and many
 * per-path rules, as a GitOps monorepo grows them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { policyDigest } from "../src/core/policy/digest.js";
import { effectivePolicy } from "../src/core/policy/effective.js";
import type { Policy } from "../src/core/policy/types.js";
import { atMost, bestOfMs, type BenchResult } from "./result.js";

const ORG_FILE = "acme/.github:.github/pullgate.yml";
const REPO_FILE = "acme/gitops:.github/pullgate.yml";

export function orgPolicyText(): string {
  return readFileSync(fileURLToPath(new URL("../policies/examples/org-wide.yml", import.meta.url)), "utf8");
}

const ENVIRONMENTS = ["production", "staging", "qa", "dev"];
const TEAMS = Array.from({ length: 12 }, (_, i) => `team-${String(i).padStart(2, "0")}`);

/** A repository policy that tightens the org floor: four environments, 12 teams' path rules each. */
export function repoPolicyText(): string {
  const lines = [
    "# yaml-language-server: $schema=https://example.test/pullgate.schema.json",
    "version: 1",
    'admins: ["@acme/platform-admins", "@acme/security"]',
    'sensitive_paths: ["/flux-system/**", "/argocd/**", "/clusters/*/kube-system/**"]',
    "defaults:",
    "  signatures:",
    "    required: true",
    '    openpgp_keyrings: [".github/pullgate/keys"]',
    '    ssh_allowed_signers: ".github/pullgate/allowed_signers"',
    "    require_signer_matches_author: true",
    "  reviews:",
    "    required_approvals: 2",
    "    require_code_owner_review: true",
    "    dismiss_stale_approvals: true",
    "  protection:",
    "    mode: enforce",
    "branches:",
  ];
  for (const env of ENVIRONMENTS) {
    const branch = env === "production" ? "main" : `env/${env}`;
    lines.push(
      `  - branch: ${branch}`,
      `    environment: ${env}`,
      "    reviews:",
      `      required_approvals: ${env === "production" ? 3 : 2}`,
      "      require_last_push_approval: true",
      "    paths:",
    );
    for (const team of TEAMS) {
      lines.push(
        `      - name: ${team}-${env}`,
        `        paths: ["/clusters/${env}/${team}/**", "/apps/${team}-*/overlays/${env}/**"]`,
        `        approvals: ${env === "production" ? 2 : 1}`,
        `        from: ["@acme/${team}", "@acme/${env}-approvers"]`,
      );
    }
    // Only main may name the org's break-glass team: elsewhere the org allows no bypass at all.
    lines.push("    protection:", "      mode: enforce");
    if (env === "production") lines.push('      allowed_bypass: ["@acme/break-glass"]');
  }
  return lines.join("\n") + "\n";
}

function effective(org: string, repo: string): Policy {
  const result = effectivePolicy({ text: org, file: ORG_FILE }, { text: repo, file: REPO_FILE });
  if (result.policy === null) {
    const shown = result.errors.slice(0, 5).map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`);
    throw new Error(`the benchmark policy does not merge: ${shown.join("; ")}`);
  }
  return result.policy;
}

export async function benchPolicy(): Promise<BenchResult[]> {
  const org = orgPolicyText();
  const repo = repoPolicyText();
  const policy = effective(org, repo);
  const rules = policy.branches.reduce((n, b) => n + b.pathRules.length, 0);
  if (policy.branches.length < ENVIRONMENTS.length || rules !== ENVIRONMENTS.length * TEAMS.length) {
    throw new Error(
      `the merged policy lost branches or path rules: ${policy.branches.length} branches, ${rules} rules`,
    );
  }
  const mergeMs = bestOfMs(() => effective(org, repo), 20, 3);
  const digestMs = bestOfMs(() => policyDigest(policy), 50, 5);
  return [
    atMost("policy.parse_validate_merge_org_repo", mergeMs, "ms", 20),
    atMost("policy.digest", digestMs, "ms", 2),
  ];
}
