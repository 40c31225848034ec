/**
 * The in-memory side of the facts port: PullFacts built from a short description, for tests of
 * the pure gate (no sandbox, no HTTP). The policy is real YAML parsed by the core, so a test
 * states the policy the way a repository would.
 */
import { policyDigest } from "../policy/digest.js";
import { effectivePolicy } from "../policy/effective.js";
import { branchPolicyFor } from "../policy/match.js";
import { POLICY_PATH } from "../policy/parse.js";
import type { Permission, ReviewState } from "../reviews/types.js";
import { secretsRule, type SecretFinding } from "../secrets/index.js";
import type { RuleResult } from "../verdict/types.js";
import type { KeyringTexts, PolicyAtBase, PullCommit, PullFacts } from "./facts.js";
import { judgeBase, prefixSource } from "./plan.js";

export const HEAD_SHA = "h".repeat(40);
export const BASE_SHA = "b".repeat(40);

export interface MemoryReview {
  user: string;
  state: ReviewState;
  /** Defaults to the head: an approval of the current head. */
  commitId?: string;
}

export interface MemoryPull {
  /** The base's `.github/pullgate.yml`; null = no policy at all. */
  policy: string | null;
  baseRef?: string;
  /** The repository's default branch; defaults to the base (its policy then governs the record prefix). */
  defaultBranch?: string;
  author?: string;
  files?: string[];
  /** Oldest first; the last one's SHA is the head. Defaults to one unsigned commit by the author. */
  commits?: PullCommit[];
  reviews?: MemoryReview[];
  /** Reviewers' permissions; a reviewer not named has none. */
  permissions?: Record<string, Permission>;
  teamMembers?: Record<string, string[]>;
  codeowners?: string | null;
  keyring?: KeyringTexts;
  lastPusher?: string | null;
  protection?: RuleResult | null;
  /** What the secrets scan of the changed files found (default: nothing). */
  secretFindings?: SecretFinding[];
  counts?: { files: number; commits: number };
}

/** A policy with the given reviews and signatures settings for `main` (production). */
export function policyYaml(
  opts: { approvals?: number; owners?: boolean; signatures?: boolean; lastPush?: boolean } = {},
): string {
  return [
    "version: 1",
    "defaults:",
    "  signatures:",
    `    required: ${opts.signatures ?? false}`,
    "  reviews:",
    `    required_approvals: ${opts.approvals ?? 1}`,
    `    require_code_owner_review: ${opts.owners ?? false}`,
    `    require_last_push_approval: ${opts.lastPush ?? false}`,
    "branches:",
    "  - branch: main",
    "    environment: production",
    "",
  ].join("\n");
}

/** An unsigned commit by `login`; `sha` defaults to the head. */
export function commit(login: string, sha: string = HEAD_SHA, parents: string[] = [BASE_SHA]): PullCommit {
  return {
    sha,
    tree: `t${sha.slice(1)}`,
    parents,
    authorEmail: `${login}@example.com`,
    authorLogin: login,
    committerEmail: `${login}@example.com`,
    committerLogin: login,
    payload: null,
    signature: null,
    githubVerified: false,
  };
}

function policyAt(text: string | null, label: string): PolicyAtBase {
  if (text === null) return { kind: "none" };
  const result = effectivePolicy(null, { file: label, text });
  if (!result.policy) {
    const reason = result.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join("; ");
    return { kind: "error", reason, cause: new Error(reason) };
  }
  return {
    kind: "policy",
    policy: result.policy,
    digest: policyDigest(result.policy),
    sources: [label],
    notes: [],
  };
}

/** The facts an adapter would gather for this pull: governed facts only when the base is governed. */
export function memoryFacts(spec: MemoryPull): PullFacts {
  const baseRef = spec.baseRef ?? "main";
  const author = spec.author ?? "alice";
  const commits = spec.commits ?? [commit(author)];
  const headSha = commits[commits.length - 1]?.sha ?? HEAD_SHA;
  const files = [...new Set(spec.files ?? ["app/config.yaml"])].sort();
  const label = `acme/app@${BASE_SHA}:${POLICY_PATH}`;
  const policy = policyAt(spec.policy, label);
  const defaultBranch = spec.defaultBranch ?? baseRef;
  const base = prefixSource(policy, `${baseRef}@${BASE_SHA.slice(0, 7)}`);
  const facts: PullFacts = {
    pull: {
      repo: { owner: "acme", repo: "app" },
      number: 7,
      author,
      headSha,
      headRef: "feature",
      headRepoFullName: "acme/app",
      baseRef,
      baseSha: BASE_SHA,
      defaultBranch,
      state: "open",
      draft: false,
      changedFiles: files,
      commits,
      reviews: (spec.reviews ?? []).map((r, i) => ({
        id: i + 1,
        user: r.user,
        state: r.state,
        commitId: r.commitId ?? headSha,
        submittedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      })),
    },
    counts: spec.counts ?? { files: files.length, commits: commits.length },
    lastPusher: spec.lastPusher === undefined ? author : spec.lastPusher,
    policy,
    // The default branch's policy is the base's own when they are the same branch.
    recordRef: { governing: defaultBranch === baseRef ? base : { kind: "none", where: defaultBranch }, base },
    governed: null,
  };
  const judged = judgeBase(facts.pull, facts.recordRef.governing, base, policy);
  if (judged.kind !== "not-record-ref" || policy.kind !== "policy") return facts;
  const branch = branchPolicyFor(policy.policy, baseRef);
  if (!branch) return facts;
  return {
    ...facts,
    governed: {
      codeowners:
        spec.codeowners === undefined || spec.codeowners === null
          ? null
          : {
              file: `acme/app@${BASE_SHA}:.github/CODEOWNERS`,
              path: ".github/CODEOWNERS",
              text: spec.codeowners,
            },
      keyring: spec.keyring ?? { openpgp: [], ssh: null, signerLogins: null },
      permissions: Object.fromEntries(
        Object.entries(spec.permissions ?? {}).map(([login, p]) => [login.toLowerCase(), p]),
      ),
      teamMembers: spec.teamMembers ?? {},
      commitPaths: null,
      protection: spec.protection ?? null,
      secrets: secretsRule({
        enabled: branch.secrets.enabled,
        findings: spec.secretFindings ?? [],
        scannedFiles: files.length,
        allowedFiles: [],
      }),
    },
  };
}
