/**
 * Plain-data mirrors of the GitHub REST responses the protection core reads. Only the fields that
 * matter are modelled; every field is optional where GitHub may omit it, because the adapter
 * passes parsed JSON straight through and the core must never over-credit a missing field (a
 * missing requirement reads as "not required", a missing boolean as false, a missing count as 0).
 *
 * Shapes follow GitHub's OpenAPI description (schemas "branch-protection",
 * "repository-rule-detailed", "repository-ruleset", "repository-ruleset-bypass-actor").
 */

/** `{ enabled }` wrappers GitHub uses for on/off classic settings. */
export interface EnabledFlag {
  enabled?: boolean;
}

export interface GitHubUserRef {
  login?: string;
  id?: number;
}

export interface GitHubTeamRef {
  slug?: string;
  id?: number;
}

export interface GitHubAppRef {
  slug?: string;
  /** The GitHub App id (the number status checks are pinned to). */
  id?: number;
}

/** Users, teams and apps lists as GET returns them (objects; PUT takes logins/slugs instead). */
export interface ActorLists {
  users?: GitHubUserRef[];
  teams?: GitHubTeamRef[];
  apps?: GitHubAppRef[];
}

export interface ClassicRequiredCheck {
  context: string;
  /** The app the check must come from; null = any source (anyone who can post a status). */
  app_id?: number | null;
}

export interface ClassicRequiredStatusChecks {
  /** Require branches to be up to date before merging. */
  strict?: boolean;
  /** Deprecated list of required contexts (any source unless also listed, pinned, in `checks`). */
  contexts?: string[];
  checks?: ClassicRequiredCheck[];
}

export interface ClassicPullRequestReviews {
  dismiss_stale_reviews?: boolean;
  require_code_owner_reviews?: boolean;
  required_approving_review_count?: number;
  require_last_push_approval?: boolean;
  /** Who may dismiss reviews; absent = anyone with write access. */
  dismissal_restrictions?: ActorLists;
  /** Who may merge without satisfying the pull request requirements. */
  bypass_pull_request_allowances?: ActorLists;
}

/**
 * `GET /repos/{owner}/{repo}/branches/{branch}/protection`. The adapter passes `null` when GitHub
 * answers 404 "Branch not protected".
 */
export interface ClassicProtection {
  required_status_checks?: ClassicRequiredStatusChecks | null;
  enforce_admins?: EnabledFlag;
  required_pull_request_reviews?: ClassicPullRequestReviews | null;
  /** Who may push at all (an allowlist); absent = anyone with write access. */
  restrictions?: ActorLists | null;
  required_signatures?: EnabledFlag;
  required_linear_history?: EnabledFlag;
  allow_force_pushes?: EnabledFlag;
  allow_deletions?: EnabledFlag;
  block_creations?: EnabledFlag;
  required_conversation_resolution?: EnabledFlag;
  lock_branch?: EnabledFlag;
  allow_fork_syncing?: EnabledFlag;
}

/** Parameters of a ruleset `pull_request` rule. */
export interface PullRequestRuleParameters {
  required_approving_review_count?: number;
  dismiss_stale_reviews_on_push?: boolean;
  require_code_owner_review?: boolean;
  require_last_push_approval?: boolean;
  required_review_thread_resolution?: boolean;
  allowed_merge_methods?: string[];
}

export interface RulesetStatusCheck {
  context: string;
  /** The GitHub App id the check must come from; absent = any source. */
  integration_id?: number;
}

/** Parameters of a ruleset `required_status_checks` rule. */
export interface StatusChecksRuleParameters {
  strict_required_status_checks_policy?: boolean;
  required_status_checks?: RulesetStatusCheck[];
  do_not_enforce_on_create?: boolean;
}

export type RulesetSourceType = "Repository" | "Organization" | "Enterprise";

/**
 * One element of `GET /repos/{owner}/{repo}/rules/branches/{branch}`: an active rule that applies
 * to the branch, whichever level configured it. `type` is open-ended (GitHub adds rule types);
 * unknown types are ignored. `parameters` is validated field by field before it is credited.
 */
export interface BranchRule {
  type: string;
  parameters?: unknown;
  ruleset_source_type?: RulesetSourceType | string;
  ruleset_source?: string;
  ruleset_id?: number;
}

export type RulesetEnforcement = "active" | "evaluate" | "disabled";

export type BypassActorType =
  "Integration" | "OrganizationAdmin" | "RepositoryRole" | "Team" | "DeployKey" | "User" | "EnterpriseOwner";

/** `exempt`: the rules are not even evaluated for the actor; as strong a bypass as `always`. */
export type BypassMode = "always" | "pull_request" | "exempt";

export interface RulesetBypassActor {
  actor_id?: number | null;
  actor_type: BypassActorType | string;
  /** GitHub's default is "always". */
  bypass_mode?: BypassMode | string;
}

export interface RulesetRefNameCondition {
  include?: string[];
  exclude?: string[];
}

/** `GET /repos/{owner}/{repo}/rulesets/{id}` (also what `POST .../rulesets` takes, minus ids). */
export interface RulesetDetail {
  id: number;
  name: string;
  target?: "branch" | "tag" | "push" | "repository" | string;
  source_type?: RulesetSourceType | string;
  source?: string;
  enforcement: RulesetEnforcement | string;
  bypass_actors?: RulesetBypassActor[];
  conditions?: { ref_name?: RulesetRefNameCondition } | null;
  rules?: { type: string; parameters?: unknown }[];
}
