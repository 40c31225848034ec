/**
 * Shared set-up for the audit tests on the sandbox: an org whose `.github` repository holds the
 * org policy, Probot-style Octokits for the app's installation and for users, and shortcuts to
 * write files, protect branches and create rulesets the way an admin would.
 */
import { ProbotOctokit } from "probot";
import type { GitHub } from "../../src/github/octokit.js";
import { loadEffectivePolicy } from "../../src/github/policy-source.js";
import type { AuditOptions, LoadPolicy } from "../../src/github/protection/audit.js";
import type { TestSandbox } from "@pullgate/sandbox";

export const quietLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** The Octokit the app gets from Probot, minus throttling (the sandbox has no secondary limits). */
export function probotOctokit(t: TestSandbox, token: string): GitHub {
  return new ProbotOctokit({
    auth: { token },
    baseUrl: t.sandbox.apiUrl,
    log: quietLog,
    throttle: { enabled: false },
    retry: { enabled: false },
  });
}

export const loadPolicy: LoadPolicy = (gh, repo, sha) => loadEffectivePolicy(gh, repo, sha);

export function auditOptions(t: TestSandbox, fix: AuditOptions["fix"] = "none"): AuditOptions {
  return { appId: t.sandbox.app.id, appSlug: t.sandbox.app.slug, fix, loadPolicy };
}

/** The org policy most tests use: main feeds production, everything pullgate protects required. */
export const ORG_POLICY = `version: 1
admins: ["@acme/admins"]
branches:
  - branch: main
    environment: production
    protection:
      mode: audit
`;

/** Commits files to a repository's default branch through git, as the given token. */
export async function writeFiles(
  t: TestSandbox,
  owner: string,
  repo: string,
  token: string,
  files: Record<string, string>,
): Promise<string> {
  const dir = await t.clone(owner, repo, token);
  const sha = await t.commit(dir, files, "update files");
  const pushed = await t.push(dir, "HEAD:refs/heads/main");
  if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}${pushed.stdout}`);
  return sha;
}

/** Everything the default policy asks of main, as classic protection (what --fix would PUT). */
export function fullClassicProtection(appId: number): Record<string, unknown> {
  return {
    required_status_checks: { strict: true, checks: [{ context: "pullgate", app_id: appId }] },
    enforce_admins: true,
    required_pull_request_reviews: {
      dismiss_stale_reviews: true,
      require_code_owner_reviews: true,
      required_approving_review_count: 1,
    },
    restrictions: null,
    allow_force_pushes: false,
    allow_deletions: false,
  };
}

/** Ruleset rules that meet the default policy on their own. */
export function fullRules(appId: number): { type: string; parameters?: Record<string, unknown> }[] {
  return [
    {
      type: "pull_request",
      parameters: {
        required_approving_review_count: 1,
        dismiss_stale_reviews_on_push: true,
        require_code_owner_review: true,
        require_last_push_approval: false,
        required_review_thread_resolution: false,
      },
    },
    {
      type: "required_status_checks",
      parameters: {
        strict_required_status_checks_policy: true,
        required_status_checks: [{ context: "pullgate", integration_id: appId }],
      },
    },
    { type: "required_signatures" },
    { type: "non_fast_forward" },
    { type: "deletion" },
  ];
}

/** The record-ref rules pullgate proposes, with the app as the only bypass actor. */
export function recordRefRuleset(
  appId: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: "records",
    target: "branch",
    enforcement: "active",
    bypass_actors: [{ actor_id: appId, actor_type: "Integration", bypass_mode: "always" }],
    conditions: { ref_name: { include: ["refs/heads/approved/*"], exclude: [] } },
    rules: [{ type: "creation" }, { type: "update" }, { type: "deletion" }, { type: "non_fast_forward" }],
    ...extra,
  };
}
