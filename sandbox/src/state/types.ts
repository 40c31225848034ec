/**
 * The sandbox's persistent state: everything except git objects and refs (those live in the bare
 * repositories). Plain JSON-serialisable records keyed the way GitHub addresses them.
 */

/** GitHub's repository roles, weakest first. */
export type RepoRole = "read" | "triage" | "write" | "maintain" | "admin";

export interface UserRecord {
  id: number;
  login: string;
  email: string | null;
  name: string | null;
  type: "User" | "Bot";
  site_admin: boolean;
  created_at: string;
}

export interface OrgRecord {
  id: number;
  login: string;
  created_at: string;
  /** login → role; owners ("admin") are admins of every repository of the org. */
  members: Record<string, "admin" | "member">;
  /** What every member may do on every repository (GitHub's default is read). */
  default_repository_permission: RepoRole | "none";
}

export interface TeamRecord {
  id: number;
  org: string;
  slug: string;
  name: string;
  description: string | null;
  privacy: "closed" | "secret";
  members: Record<string, "member" | "maintainer">;
  /** "owner/repo" → role granted to every member. */
  repos: Record<string, RepoRole>;
  created_at: string;
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  description: string | null;
  default_branch: string;
  created_at: string;
  updated_at: string;
  pushed_at: string | null;
  /** login → role. */
  collaborators: Record<string, RepoRole>;
  allow_merge_commit: boolean;
  allow_squash_merge: boolean;
  allow_rebase_merge: boolean;
  archived: boolean;
  /** A fork: its parent's "owner/name" (absent for repositories that are not forks, and in older states). */
  fork_parent?: string;
  /** A fork: the root of its fork network, "owner/name" (the parent unless the parent is itself a fork). */
  fork_source?: string;
}

export interface InstallationRecord {
  id: number;
  app_id: number;
  /** The org login it is installed on. */
  account: string;
  created_at: string;
  suspended_at: string | null;
  /**
   * "all": every repository of the account, present and future; "selected": only
   * `repository_ids`. Absent in states written before selections existed, which means "all".
   */
  repository_selection?: "all" | "selected";
  /** The selected repositories' ids (only meaningful when `repository_selection` is "selected"). */
  repository_ids?: number[];
  /** Login of who suspended it (null or absent when not suspended). */
  suspended_by?: string | null;
  /** Absent in older states: `created_at` stands in. */
  updated_at?: string;
}

/** A GitHub App permission level (`metadata: read` is implied for every token). */
export type PermissionLevel = "read" | "write";

export type TokenRecord =
  | { kind: "admin"; token: string; login: string }
  | { kind: "user"; token: string; login: string; id: number; created_at: string; note: string | null }
  | {
      kind: "installation";
      token: string;
      installationId: number;
      expiresAt: number;
      /** Narrowed at creation (`repositories` / `repository_ids`): only these of the installation's. */
      repositoryIds?: number[];
      /** Narrowed at creation (`permissions`): at most the installation's. */
      permissions?: Record<string, PermissionLevel>;
    };

export interface IssueRecord {
  id: number;
  repo: string;
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  state_reason: string | null;
  user: string;
  labels: string[];
  assignees: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: string | null;
  /** Set for pull requests: every PR is also an issue sharing its number. */
  isPull: boolean;
}

export interface PullRecord {
  id: number;
  repo: string;
  number: number;
  head_ref: string;
  head_sha: string;
  base_ref: string;
  draft: boolean;
  merged: boolean;
  merged_at: string | null;
  merged_by: string | null;
  merge_commit_sha: string | null;
  maintainer_can_modify: boolean;
  /**
   * The head branch's repository, "owner/name", when it is a fork of `repo` (absent: the head is
   * in `repo` itself, as for every PR in older states).
   */
  head_repo?: string;
  /** Pushes to the head since creation, newest last: for require_last_push_approval. */
  last_pusher: string;
}

export interface IssueCommentRecord {
  id: number;
  repo: string;
  issue_number: number;
  user: string;
  body: string;
  created_at: string;
  updated_at: string;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";

export interface ReviewRecord {
  id: number;
  repo: string;
  pull_number: number;
  user: string;
  body: string;
  state: ReviewState;
  commit_id: string;
  submitted_at: string;
}

export interface CheckSuiteRecord {
  id: number;
  repo: string;
  head_sha: string;
  head_branch: string | null;
  app_id: number;
  created_at: string;
  updated_at: string;
}

export interface CheckRunOutput {
  title: string | null;
  summary: string | null;
  text: string | null;
  annotations_count: number;
}

export interface CheckRunRecord {
  id: number;
  repo: string;
  head_sha: string;
  name: string;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion:
    | "success"
    | "failure"
    | "neutral"
    | "cancelled"
    | "skipped"
    | "timed_out"
    | "action_required"
    | "stale"
    | null;
  started_at: string | null;
  completed_at: string | null;
  output: CheckRunOutput;
  details_url: string | null;
  external_id: string | null;
  app_id: number;
  check_suite_id: number;
  /** Annotations sent with `output.annotations` (GitHub appends each request's), for GET .../annotations. */
  annotations?: CheckRunAnnotation[];
}

export interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  title: string | null;
  message: string;
  raw_details: string | null;
}

export interface StatusRecord {
  id: number;
  repo: string;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  target_url: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
}

/** Branch protection as GitHub stores it (normalised from the PUT body). */
export interface ProtectionRecord {
  /** The id GitHub gives the branch protection rule (branch_protection_rule webhooks). */
  id: number;
  created_at: string;
  updated_at: string;
  required_status_checks: { strict: boolean; checks: { context: string; app_id: number | null }[] } | null;
  enforce_admins: boolean;
  required_pull_request_reviews: {
    dismiss_stale_reviews: boolean;
    require_code_owner_reviews: boolean;
    required_approving_review_count: number;
    require_last_push_approval: boolean;
    bypass_pull_request_allowances: { users: string[]; teams: string[]; apps: string[] };
    dismissal_restrictions: { users: string[]; teams: string[]; apps: string[] } | null;
  } | null;
  restrictions: { users: string[]; teams: string[]; apps: string[] } | null;
  required_signatures: boolean;
  required_linear_history: boolean;
  allow_force_pushes: boolean;
  allow_deletions: boolean;
  block_creations: boolean;
  required_conversation_resolution: boolean;
  lock_branch: boolean;
  allow_fork_syncing: boolean;
}

export interface RulesetRule {
  type: string;
  parameters?: Record<string, unknown>;
}

export interface RulesetBypassActor {
  actor_id: number | null;
  actor_type: "Integration" | "OrganizationAdmin" | "RepositoryRole" | "Team" | "DeployKey";
  bypass_mode: "always" | "pull_request";
}

export interface RulesetRecord {
  id: number;
  name: string;
  target: "branch" | "tag" | "push";
  source_type: "Repository" | "Organization";
  /** "owner/repo" or org login. */
  source: string;
  enforcement: "disabled" | "active" | "evaluate";
  conditions: {
    ref_name?: { include: string[]; exclude: string[] };
    repository_name?: { include: string[]; exclude: string[]; protected?: boolean };
  } | null;
  rules: RulesetRule[];
  bypass_actors: RulesetBypassActor[];
  created_at: string;
  updated_at: string;
}

export interface GpgKeyRecord {
  id: number;
  user: string;
  key_id: string;
  armored: string;
  emails: string[];
  created_at: string;
}

export interface SshSigningKeyRecord {
  id: number;
  user: string;
  key: string;
  title: string;
  created_at: string;
}

/** A merge-queue group: the commit the queue built for one entry and asks required checks of. */
export interface MergeQueueGroupRecord {
  head_sha: string;
  /** `refs/heads/gh-readonly-queue/<base>/pr-<N>-<base_sha>`. */
  head_ref: string;
  /** What the group is built on: the base branch tip or the previous entry's group head. */
  base_sha: string;
  created_at: string;
}

/** One pull request waiting in a branch's merge queue (queue order = array order). */
export interface MergeQueueEntryRecord {
  id: number;
  /** "owner/repo" */
  repo: string;
  base_ref: string;
  number: number;
  /** Who enqueued it: the merge is theirs (merged_by). */
  enqueued_by: string;
  enqueued_at: string;
  /** The PR head the entry was queued with; a push to the head dequeues it. */
  head_sha: string;
  /** null = not built yet (beyond max_entries_to_build). */
  group: MergeQueueGroupRecord | null;
}

export interface SandboxState {
  version: 1;
  nextId: number;
  app: { id: number; slug: string; name: string; webhookSecret: string; owner: string; created_at: string };
  users: Record<string, UserRecord>;
  orgs: Record<string, OrgRecord>;
  /** "org/slug" → team */
  teams: Record<string, TeamRecord>;
  /** "owner/repo" → repo */
  repos: Record<string, RepoRecord>;
  installations: Record<string, InstallationRecord>;
  tokens: Record<string, TokenRecord>;
  /** "owner/repo#n" → issue (pull requests too) */
  issues: Record<string, IssueRecord>;
  /** "owner/repo#n" → pull */
  pulls: Record<string, PullRecord>;
  /** "owner/repo" → next issue/PR number */
  nextNumber: Record<string, number>;
  comments: Record<string, IssueCommentRecord>;
  reviews: Record<string, ReviewRecord>;
  checkSuites: Record<string, CheckSuiteRecord>;
  checkRuns: Record<string, CheckRunRecord>;
  statuses: Record<string, StatusRecord>;
  /** "owner/repo:branch" → protection */
  protections: Record<string, ProtectionRecord>;
  rulesets: Record<string, RulesetRecord>;
  gpgKeys: Record<string, GpgKeyRecord>;
  sshSigningKeys: Record<string, SshSigningKeyRecord>;
  /** Merge-queue entries of every repository and branch, in queue order (absent in older state files). */
  mergeQueue?: MergeQueueEntryRecord[];
}
