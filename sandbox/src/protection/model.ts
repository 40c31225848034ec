import type { SandboxCore } from "../core.js";
import { invalidRequest } from "../http/errors.js";
import type { Body } from "../http/request.js";
import type { ProtectionRecord, RepoRecord } from "../state/types.js";
import { teamJson } from "../routes/orgs.js";

type Actors = { users: string[]; teams: string[]; apps: string[] };

function actors(body: Body | undefined): Actors {
  return {
    users: body?.optStringArray("users") ?? [],
    teams: body?.optStringArray("teams") ?? [],
    apps: body?.optStringArray("apps") ?? [],
  };
}

/**
 * Normalises GitHub's `PUT branches/{b}/protection` body. Its four top-level keys are required
 * (object or null), as GitHub requires them; the rest default to off.
 */
export function protectionFromBody(
  body: Body,
  previous: ProtectionRecord | undefined,
  id: number,
  now: string,
): ProtectionRecord {
  const checksBody = body.requiredNullableObject("required_status_checks");
  if (!Object.hasOwn(body.raw, "enforce_admins")) throw invalidRequest(`"enforce_admins" wasn't supplied.`);
  const reviewsBody = body.requiredNullableObject("required_pull_request_reviews");
  const restrictionsBody = body.requiredNullableObject("restrictions");
  let requiredStatusChecks: ProtectionRecord["required_status_checks"] = null;
  if (checksBody !== null) {
    // Exactly one of `checks` and `contexts` (the deprecated spelling), never merged: GitHub
    // answers 422 to both or neither, whatever its description says (sandbox/DEVIATIONS.md).
    const hasChecks = checksBody.has("checks") && checksBody.raw.checks !== null;
    const hasContexts = checksBody.has("contexts") && checksBody.raw.contexts !== null;
    if (hasChecks === hasContexts) {
      throw invalidRequest(
        [
          'No subschema in "anyOf" matched.',
          hasChecks ? 'More than one subschema in "oneOf" matched.' : 'No subschema in "oneOf" matched.',
          'Not all subschemas of "allOf" matched.',
          `For 'anyOf/1', ${JSON.stringify(checksBody.raw)} is not a null.`,
        ].join("\n"),
      );
    }
    const checks: { context: string; app_id: number | null }[] = [];
    for (const raw of checksBody.optArray("checks") ?? []) {
      const item = raw as { context?: unknown; app_id?: unknown };
      if (typeof item.context !== "string")
        throw invalidRequest(`For 'items', ${JSON.stringify(raw)} is missing context.`);
      checks.push({ context: item.context, app_id: typeof item.app_id === "number" ? item.app_id : null });
    }
    for (const context of checksBody.optStringArray("contexts") ?? []) {
      if (!checks.some((c) => c.context === context)) checks.push({ context, app_id: null });
    }
    requiredStatusChecks = { strict: checksBody.optBool("strict") ?? false, checks };
  }
  let reviews: ProtectionRecord["required_pull_request_reviews"] = null;
  if (reviewsBody !== null) {
    const count = reviewsBody.optInt("required_approving_review_count") ?? 1;
    if (count < 0 || count > 6)
      throw invalidRequest(
        `For 'properties/required_approving_review_count', ${count} must be between 0 and 6.`,
      );
    const dismissal = reviewsBody.optObject("dismissal_restrictions");
    reviews = {
      dismiss_stale_reviews: reviewsBody.optBool("dismiss_stale_reviews") ?? false,
      require_code_owner_reviews: reviewsBody.optBool("require_code_owner_reviews") ?? false,
      required_approving_review_count: count,
      require_last_push_approval: reviewsBody.optBool("require_last_push_approval") ?? false,
      bypass_pull_request_allowances: actors(reviewsBody.optObject("bypass_pull_request_allowances")),
      dismissal_restrictions: dismissal === undefined ? null : actors(dismissal),
    };
  }
  const flag = (name: string) => body.optBool(name) ?? false;
  return {
    id,
    created_at: previous?.created_at ?? now,
    updated_at: now,
    required_status_checks: requiredStatusChecks,
    enforce_admins: body.optBool("enforce_admins") ?? false,
    required_pull_request_reviews: reviews,
    restrictions: restrictionsBody === null ? null : actors(restrictionsBody),
    required_signatures: previous?.required_signatures ?? false,
    required_linear_history: flag("required_linear_history"),
    allow_force_pushes: flag("allow_force_pushes"),
    allow_deletions: flag("allow_deletions"),
    block_creations: flag("block_creations"),
    required_conversation_resolution: flag("required_conversation_resolution"),
    lock_branch: flag("lock_branch"),
    allow_fork_syncing: flag("allow_fork_syncing"),
  };
}

/** GitHub's nested GET shape for a protected branch. */
export function protectionJson(
  core: SandboxCore,
  repo: RepoRecord,
  branch: string,
  p: ProtectionRecord,
): Record<string, unknown> {
  const url = `${core.apiUrl}/repos/${repo.owner}/${repo.name}/branches/${encodeURIComponent(branch)}/protection`;
  const actorList = (a: Actors) => ({
    users: a.users.map((u) => core.userJson(u)),
    teams: a.teams.map((slug) => {
      // GitHub answers with the full team object (GitHub's description requires node_id, url, ...).
      const team = core.state.teams[`${repo.owner}/${slug}`];
      return team ? teamJson(core, team) : { id: 0, slug, name: slug };
    }),
    apps: a.apps.map((slug) => ({
      id: slug === core.state.app.slug ? core.state.app.id : 0,
      slug,
      name: slug,
    })),
  });
  const json: Record<string, unknown> = { url };
  if (p.required_status_checks !== null) {
    json.required_status_checks = {
      url: `${url}/required_status_checks`,
      strict: p.required_status_checks.strict,
      contexts: p.required_status_checks.checks.map((c) => c.context),
      contexts_url: `${url}/required_status_checks/contexts`,
      checks: p.required_status_checks.checks,
    };
  }
  if (p.required_pull_request_reviews !== null) {
    const r = p.required_pull_request_reviews;
    const reviews: Record<string, unknown> = {
      url: `${url}/required_pull_request_reviews`,
      dismiss_stale_reviews: r.dismiss_stale_reviews,
      require_code_owner_reviews: r.require_code_owner_reviews,
      required_approving_review_count: r.required_approving_review_count,
      require_last_push_approval: r.require_last_push_approval,
      bypass_pull_request_allowances: actorList(r.bypass_pull_request_allowances),
    };
    if (r.dismissal_restrictions !== null) {
      reviews.dismissal_restrictions = {
        url: `${url}/dismissal_restrictions`,
        users_url: `${url}/dismissal_restrictions/users`,
        teams_url: `${url}/dismissal_restrictions/teams`,
        ...actorList(r.dismissal_restrictions),
      };
    }
    json.required_pull_request_reviews = reviews;
  }
  json.required_signatures = { url: `${url}/required_signatures`, enabled: p.required_signatures };
  json.enforce_admins = { url: `${url}/enforce_admins`, enabled: p.enforce_admins };
  json.required_linear_history = { enabled: p.required_linear_history };
  json.allow_force_pushes = { enabled: p.allow_force_pushes };
  json.allow_deletions = { enabled: p.allow_deletions };
  json.block_creations = { enabled: p.block_creations };
  json.required_conversation_resolution = { enabled: p.required_conversation_resolution };
  json.lock_branch = { enabled: p.lock_branch };
  json.allow_fork_syncing = { enabled: p.allow_fork_syncing };
  if (p.restrictions !== null) {
    json.restrictions = {
      url: `${url}/restrictions`,
      users_url: `${url}/restrictions/users`,
      teams_url: `${url}/restrictions/teams`,
      apps_url: `${url}/restrictions/apps`,
      ...actorList(p.restrictions),
    };
  }
  return json;
}

/** The `rule` object of branch_protection_rule webhooks. */
export function protectionRuleJson(
  repo: RepoRecord,
  branch: string,
  p: ProtectionRecord,
): Record<string, unknown> {
  const level = (on: boolean) => (on ? (p.enforce_admins ? "everyone" : "non_admins") : "off");
  const reviews = p.required_pull_request_reviews;
  return {
    id: p.id,
    repository_id: repo.id,
    name: branch,
    created_at: p.created_at,
    updated_at: p.updated_at,
    pull_request_reviews_enforcement_level: level(reviews !== null),
    required_approving_review_count: reviews?.required_approving_review_count ?? 0,
    dismiss_stale_reviews_on_push: reviews?.dismiss_stale_reviews ?? false,
    require_code_owner_review: reviews?.require_code_owner_reviews ?? false,
    require_last_push_approval: reviews?.require_last_push_approval ?? false,
    authorized_dismissal_actors_only: reviews?.dismissal_restrictions !== null && reviews !== null,
    ignore_approvals_from_contributors: false,
    required_status_checks: p.required_status_checks?.checks.map((c) => c.context) ?? [],
    required_status_checks_enforcement_level: level(p.required_status_checks !== null),
    strict_required_status_checks_policy: p.required_status_checks?.strict ?? false,
    signature_requirement_enforcement_level: level(p.required_signatures),
    linear_history_requirement_enforcement_level: level(p.required_linear_history),
    admin_enforced: p.enforce_admins,
    create_protected: p.block_creations,
    allow_force_pushes_enforcement_level: p.allow_force_pushes ? "everyone" : "off",
    allow_deletions_enforcement_level: p.allow_deletions ? "everyone" : "off",
    merge_queue_enforcement_level: "off",
    required_deployments_enforcement_level: "off",
    required_conversation_resolution_level: level(p.required_conversation_resolution),
    authorized_actors_only: p.restrictions !== null,
    authorized_actor_names: p.restrictions?.users ?? [],
    lock_branch_enforcement_level: level(p.lock_branch),
    lock_allows_fork_sync: p.allow_fork_syncing,
  };
}
