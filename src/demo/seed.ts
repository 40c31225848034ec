/**
 * What the demo world's GitOps repository starts with: the org and repository names, the policy
 * and the CODEOWNERS file seeded on `main`. Shared by `pullgate demo` and the e2e tests.
 */

export const ORG = "acme";
export const REPO = "gitops";
/** The environment `main` feeds, so the record branch is approved/production. */
export const ENVIRONMENT = "production";

/** Where the trusted SSH keys live in the repository (read from the base branch). */
export const ALLOWED_SIGNERS_PATH = ".github/pullgate/allowed_signers";

/**
 * The trusted-key policy: SSH keys in the repo, one approval, code-owner review, stale approvals
 * dismissed. `extra` is appended (further top-level YAML); `lastPushApproval` turns on GitHub's
 * require_last_push_approval (the pusher of the newest commit cannot approve it);
 * `openpgpKeyrings` lists keyring files on the base branch; `trustWebFlow` trusts GitHub's own
 * "Update branch" merge commits (their key must be in a keyring).
 */
export function gitopsPolicy(
  options: {
    extra?: string;
    lastPushApproval?: boolean;
    openpgpKeyrings?: string[];
    trustWebFlow?: boolean;
  } = {},
): string {
  return [
    "version: 1",
    'admins: ["@acme/platform"]',
    "defaults:",
    "  signatures:",
    "    required: true",
    `    openpgp_keyrings: ${JSON.stringify(options.openpgpKeyrings ?? [])}`,
    `    ssh_allowed_signers: "${ALLOWED_SIGNERS_PATH}"`,
    ...(options.trustWebFlow === true ? ["    trust_web_flow: true"] : []),
    "  reviews:",
    "    required_approvals: 1",
    "    require_code_owner_review: true",
    "    dismiss_stale_approvals: true",
    ...(options.lastPushApproval === true ? ["    require_last_push_approval: true"] : []),
    "  protection:",
    "    mode: off",
    "branches:",
    "  - branch: main",
    `    environment: ${ENVIRONMENT}`,
    options.extra ?? "",
  ].join("\n");
}

/** The policy every e2e test starts from (`extra` is appended as further YAML). */
export function basePolicy(extra = ""): string {
  return gitopsPolicy({ extra });
}

/** Platform owns everything, SRE owns production (last match wins). */
export const BASE_CODEOWNERS = ["* @acme/platform", "/clusters/prod/ @acme/sre", ""].join("\n");
