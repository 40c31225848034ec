/**
 * The JSON Schema of `.github/pullgate.yml`. policies/pullgate.schema.json is generated from this
 * object (a test fails when they differ; `UPDATE_SCHEMA=1 npx vitest run src/core/policy` rewrites
 * it), so editors and the validator can never disagree.
 *
 * Every object is closed (`additionalProperties: false`) and every field has a description, so
 * editors autocomplete and explain. `patternErrorMessage` is understood by yaml-language-server
 * and by our own error rendering.
 */

import { REFRESH_INTERVAL_PATTERN } from "./refresh-interval.js";

/** `promotion.min_age`: the same grammar as `records.refresh_interval` ("0", or N and one unit). */
const DURATION_PATTERN = REFRESH_INTERVAL_PATTERN;

/** A URN, not a URL: the schema ships in the package (policies/), it is not served anywhere. */
export const SCHEMA_ID = "urn:pullgate:policy-schema:1";

const principal = {
  type: "string",
  pattern:
    "^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?|[^@\\s]+@[^@\\s]+\\.[^@\\s]+)$",
  patternErrorMessage: 'must be "@login", "@org/team-slug" or an email address',
  description: 'A GitHub user ("@login"), a team ("@org/team-slug") or an email address, as in CODEOWNERS.',
} as const;

const principals = (description: string) => ({
  type: "array",
  items: principal,
  uniqueItems: true,
  description,
});

const repoPath = {
  type: "string",
  minLength: 1,
  pattern: "^(?!/)(?!.*//)(?!.*/$)(?!(?:.*/)?\\.\\.?(?:/|$))[^\\\\\\u0000]+$",
  patternErrorMessage:
    'must be a path relative to the repository root, without "..", "." or a leading or trailing "/"',
  description: "A path relative to the repository root, read from the base branch.",
} as const;

const pattern = (description: string) => ({
  type: "string",
  minLength: 1,
  pattern: "^[^\\s\\u0000]+$",
  patternErrorMessage: "must be a CODEOWNERS-style pattern without whitespace",
  description,
});

const patterns = (description: string) => ({
  type: "array",
  minItems: 1,
  uniqueItems: true,
  items: pattern(
    "A CODEOWNERS-style pattern: `/` anchors at the root, `*` stays within a folder, `**` crosses folders.",
  ),
  description,
});

const signatures = {
  type: "object",
  additionalProperties: false,
  description: "Which commits pushed to the pull request must be signed, and by which trusted keys.",
  properties: {
    required: {
      type: "boolean",
      description:
        "Every commit pushed to the pull request must carry a valid signature by a trusted key. Default: true.",
    },
    openpgp_keyrings: {
      type: "array",
      uniqueItems: true,
      items: repoPath,
      description:
        "Files or folders of armored OpenPGP public keys (.asc) in the repository whose keys are trusted. Default: [.github/pullgate/keys].",
    },
    ssh_allowed_signers: {
      ...repoPath,
      type: ["string", "null"],
      description:
        "An SSH allowed_signers file in the repository (as for `git config gpg.ssh.allowedSignersFile`), or null for none. Default: .github/pullgate/allowed_signers.",
    },
    trust_web_flow: {
      type: "boolean",
      description:
        'Trust GitHub\'s web-flow key for merge commits GitHub itself made inside the pull request (e.g. "Update branch"). Default: false.',
    },
    signer_identity: {
      type: "string",
      enum: ["author_or_committer", "author", "any"],
      description:
        "Whose trusted key may sign a commit: author_or_committer (the signing key's person is the commit's author or committer), author (only its author) or any (any trusted key). Default: author_or_committer.",
    },
    signer_logins: {
      ...repoPath,
      type: ["string", "null"],
      description:
        "A file in the repository linking GitHub logins to their keys (lines of `@login identity...`, identities being OpenPGP fingerprints, SSH fingerprints or emails), or null for none: keys are then linked through the emails GitHub attributes to accounts. Default: null.",
    },
    require_signer_matches_author: {
      type: "boolean",
      description:
        "Legacy: true is signer_identity: author; false adds nothing (the signer_identity default applies). Use signer_identity.",
    },
    scopes: {
      type: "array",
      description:
        "Restrict some signers to some paths: a commit signed by a listed signer that touches other paths is refused. Default: [] (every trusted key may sign any path).",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["signers", "paths"],
        description: "Signers and the paths they may change.",
        properties: {
          signers: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            description:
              "OpenPGP key fingerprints (40 or 64 hex digits) or SSH principals (as in allowed_signers).",
            items: {
              type: "string",
              minLength: 1,
              pattern: "^\\S+$",
              patternErrorMessage: "must be a key fingerprint or an SSH principal, without whitespace",
              description: "An OpenPGP key fingerprint or an SSH principal.",
            },
          },
          paths: patterns("CODEOWNERS-style patterns these signers may change."),
        },
      },
    },
  },
} as const;

const reviews = {
  type: "object",
  additionalProperties: false,
  description: "Which reviews a pull request needs. Self-approval never counts and cannot be enabled.",
  properties: {
    required_approvals: {
      type: "integer",
      minimum: 0,
      maximum: 100,
      description: "Approvals required from people with write access other than the author. Default: 1.",
    },
    require_code_owner_review: {
      type: "boolean",
      description:
        "Every changed file that has a code owner needs an approval from one of its owners. Default: true.",
    },
    dismiss_stale_approvals: {
      type: "boolean",
      description: "Approvals given on an older head commit do not count. Default: true.",
    },
    require_last_push_approval: {
      type: "boolean",
      description:
        "The most recent pusher's own approval cannot be the one that satisfies the rules (GitHub's require_last_push_approval). Default: false.",
    },
  },
} as const;

const protection = {
  type: "object",
  additionalProperties: false,
  description:
    "The GitHub branch protection (and rulesets) this branch must have. Each field defaults as noted.",
  properties: {
    mode: {
      enum: ["off", "audit", "enforce"],
      description:
        "off: do not look at branch protection; audit: report drift (check fails, `pullgate audit` exits 1); enforce: also let `pullgate audit --fix` apply it. Default: audit.",
    },
    require_pull_request: {
      type: "boolean",
      description: "Changes must go through a pull request. Default: true.",
    },
    required_approvals: {
      type: "integer",
      minimum: 0,
      maximum: 6,
      description:
        "Required approving review count GitHub must enforce (GitHub allows 0-6). Default: reviews.required_approvals (at most 6).",
    },
    require_code_owner_review: {
      type: "boolean",
      description: "GitHub must require code-owner review. Default: reviews.require_code_owner_review.",
    },
    dismiss_stale_reviews: {
      type: "boolean",
      description: "GitHub must dismiss stale reviews on push. Default: reviews.dismiss_stale_approvals.",
    },
    require_last_push_approval: {
      type: "boolean",
      description:
        "GitHub must require approval of the most recent push. Default: reviews.require_last_push_approval.",
    },
    require_signed_commits: {
      type: "boolean",
      description: "GitHub must require signed commits. Default: signatures.required.",
    },
    require_pullgate_check: {
      type: "boolean",
      description: "pullgate's check must be a required status check, pinned to this app. Default: true.",
    },
    require_up_to_date: {
      type: "boolean",
      description:
        "Branches must be up to date before merging (strict status checks), so a merge's tree is the approved tree. Default: true.",
    },
    allow_force_pushes: { type: "boolean", description: "Force pushes are allowed. Default: false." },
    allow_deletions: { type: "boolean", description: "The branch may be deleted. Default: false." },
    enforce_admins: { type: "boolean", description: "The rules apply to administrators too. Default: true." },
    allowed_bypass: principals(
      "Principals that may bypass the protection (ruleset bypass actors, pull-request bypass allowances); any other bypass is drift. Default: [].",
    ),
  },
} as const;

const secrets = {
  type: "object",
  additionalProperties: false,
  description:
    "Fail pull requests that add plaintext credentials: unencrypted Kubernetes Secrets, PEM private keys, cloud and GitHub tokens (see docs/policy.md).",
  properties: {
    enabled: {
      type: "boolean",
      description: "Scan the pull request's changed files for plaintext credentials. Default: true.",
    },
    allow: {
      type: "array",
      uniqueItems: true,
      items: pattern("A CODEOWNERS-style pattern of files that are not scanned."),
      description:
        "Files that are not scanned (test fixtures, vaults encrypted by other means). Default: [] (every changed file is scanned).",
    },
  },
} as const;

const pathRule = {
  type: "object",
  additionalProperties: false,
  required: ["paths", "from"],
  description:
    "Changes under these paths need this many approvals from these principals (on top of the other rules).",
  properties: {
    name: {
      type: "string",
      minLength: 1,
      maxLength: 100,
      description: "Name shown in the check. Default: the first pattern.",
    },
    paths: patterns("CODEOWNERS-style patterns this rule covers."),
    approvals: {
      type: "integer",
      minimum: 1,
      maximum: 100,
      description:
        "Approvals needed from the principals in `from` (a team member counts for the team). Default: 1.",
    },
    from: {
      ...principals("Who may give these approvals."),
      minItems: 1,
    },
  },
} as const;

const environmentName = {
  type: "string",
  minLength: 1,
  maxLength: 100,
  pattern:
    "^(?!.*\\.\\.)(?!.*\\.lock(?:/|$))[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?)*$",
  patternErrorMessage:
    "must be letters, digits, '.', '_' and '-' (segments separated by '/'), usable in a git ref",
} as const;

const promotion = {
  type: "object",
  additionalProperties: false,
  required: ["from", "min_age"],
  description:
    "What this branch records must first have been recorded on another environment, at least min_age before: the pull request's tree (or, with `path`, its promoted directory's tree) must equal one a record of `from` carries. See docs/policy.md, \"Promotion\".",
  properties: {
    from: {
      ...environmentName,
      description: "The environment whose records qualify, e.g. staging.",
    },
    min_age: {
      type: "string",
      pattern: DURATION_PATTERN,
      patternErrorMessage: 'must be "0" or a duration such as "1h" (a whole number and one of s, m, h, d)',
      description:
        'How old the matching record must be (its Pullgate-Issued-At), at most 365d; "0": any age.',
    },
    path: {
      ...repoPath,
      description:
        "Environments as directories of one branch: the promoted directory in this branch (envs/production). Default: none (the whole tree is promoted).",
    },
    from_path: {
      ...repoPath,
      description:
        "Environments as directories: the directory whose tree in a record of `from` must equal `path`'s (envs/staging). Needs `path`. Default: `path`.",
    },
  },
} as const;

const breakGlass = {
  type: "object",
  additionalProperties: false,
  required: ["enabled"],
  description:
    'The emergency path: a pull request with `label`, approved on its head by `approvals` distinct `admins` who neither wrote nor pushed to it, passes without the rules it does not satisfy; its record is marked break-glass. See docs/policy.md, "Break-glass".',
  properties: {
    enabled: { type: "boolean", description: "Whether break-glass can be used on this branch." },
    label: {
      type: "string",
      minLength: 1,
      maxLength: 50,
      pattern: "^\\S(?:.*\\S)?$",
      patternErrorMessage: "must be a GitHub label name without leading or trailing spaces",
      description: 'The label that requests break-glass. Default: "pullgate/break-glass".',
    },
    approvals: {
      type: "integer",
      minimum: 2,
      maximum: 20,
      description:
        "Distinct admins who must approve the current head; at least 2 (no admin alone). Default: 2.",
    },
    admins: {
      ...principals("Who counts as an admin for break-glass. Default: the policy's `admins`."),
      minItems: 1,
    },
  },
} as const;

const defaults = {
  type: "object",
  additionalProperties: false,
  description: "Settings applied to every branch of this file unless the branch overrides them.",
  properties: { signatures, reviews, protection, secrets },
} as const;

const branch = {
  type: "object",
  additionalProperties: false,
  required: ["branch"],
  description: "A governed branch. The first entry whose `branch` matches a branch name applies.",
  properties: {
    branch: {
      type: "string",
      minLength: 1,
      maxLength: 255,
      pattern:
        "^(?!-)(?!/)(?!.*//)(?!.*/$)(?!.*\\.\\.)(?!.*@\\{)(?!.*\\.lock(?:/|$))[^\\s~^:?\\[\\\\\\u0000-\\u001f\\u007f]+$",
      patternErrorMessage:
        'must be a branch name (without "refs/heads/") or a glob where `*` matches within one path segment and `**` across segments',
      description:
        'Branch name ("main") or glob ("release/*": `*` does not cross "/", `**` does). Without "refs/heads/".',
    },
    environment: {
      type: "string",
      minLength: 1,
      maxLength: 100,
      pattern:
        "^(?!.*\\.\\.)(?!.*\\.lock(?:/|$))[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?)*$",
      patternErrorMessage:
        "must be letters, digits, '.', '_' and '-' (segments separated by '/'), usable in a git ref",
      description:
        "Environment this branch feeds: records go to `<records.ref_prefix><environment>`. Default: the branch name for a literal branch; required for a glob.",
    },
    signatures,
    reviews,
    paths: {
      type: "array",
      items: pathRule,
      description: "Extra per-path rules for this branch. Default: [].",
    },
    protection,
    promotion,
    break_glass: breakGlass,
    secrets,
  },
} as const;

export const policySchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: SCHEMA_ID,
  title: "pullgate policy",
  description:
    "The pullgate policy of a repository (.github/pullgate.yml) or of an organisation (.github/pullgate.yml in the org's .github repository). See docs/policy.md.",
  type: "object",
  additionalProperties: false,
  required: ["version"],
  properties: {
    version: { const: 1, description: "Policy format version. Must be 1." },
    admins: {
      ...principals(
        "Who may approve changes to sensitive paths (CODEOWNERS, this policy, keyrings, workflows). Default: [] (such changes can never pass).",
      ),
    },
    records: {
      type: "object",
      additionalProperties: false,
      description: "Where approved-revision records are published, and how often they are re-issued.",
      properties: {
        ref_prefix: {
          type: "string",
          minLength: 1,
          maxLength: 100,
          pattern: "^(?!refs/)(?!.*\\.\\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/-]*$",
          patternErrorMessage: 'must be a branch-name prefix such as "approved/" (without "refs/heads/")',
          description:
            'Branch-name prefix of record refs: records go to refs/heads/<ref_prefix><environment>. Default: "approved/".',
        },
        refresh_interval: {
          type: "string",
          pattern: REFRESH_INTERVAL_PATTERN,
          patternErrorMessage:
            'must be "0" or a duration such as "24h" (a whole number and one of s, m, h, d)',
          description:
            'How often the app re-issues the current record of each environment (same tree, sequence + 1, new Issued-At), so agents can refuse a frozen mirror with --max-age: at least 1h, at most 365d; "0" turns it off. Default: "24h". A repository may only shorten the org\'s interval.',
        },
      },
    },
    sensitive_paths: {
      type: "array",
      uniqueItems: true,
      items: pattern("A CODEOWNERS-style pattern whose changes need an admin's approval."),
      description:
        "Extra paths whose changes need an admin's approval. Always included: CODEOWNERS (all three locations), .github/pullgate.yml, .github/workflows/**, and every keyring path.",
    },
    defaults,
    branches: {
      type: "array",
      items: branch,
      description: "Governed branches, first match wins. Default: [].",
    },
  },
} as const;
