/**
 * Where GitHub's webhook payloads differ from its REST responses for the same objects. The sandbox
 * builds both from one serializer; `webhookShape` turns the REST shapes into the webhook ones just
 * before a delivery is queued (checked against GitHub's published webhook schemas in
 * sandbox/test/webhook-fidelity.test.ts).
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A repository as webhooks carry it: no `permissions` (those are the REST caller's own) except in
 * `team` events, where they are the team's permissions on the repository (what `team.edited`'s
 * `changes.repository.permissions.from` is compared with); and no `organization` object. Push
 * payloads name the owning organization by login instead, the way the old push payload always has.
 */
function webhookRepository(repo: Json, event: string): Json {
  const { permissions, organization, ...rest } = repo;
  const kept = event === "team" && isObject(permissions) ? { ...rest, permissions } : rest;
  if (event === "push" && isObject(organization) && typeof organization.login === "string")
    return { ...kept, organization: organization.login };
  return kept;
}

/** The pull request's base and head repositories, shaped like the top-level one (never as in push). */
function webhookPullRequest(pull: Json): Json {
  const side = (value: unknown): unknown =>
    isObject(value) && isObject(value.repo) ? { ...value, repo: webhookRepository(value.repo, "") } : value;
  return { ...pull, base: side(pull.base), head: side(pull.head) };
}

/** A review as webhooks carry it: the state in lower case ("approved"), where REST says "APPROVED". */
function webhookReview(review: Json): Json {
  return typeof review.state === "string" ? { ...review, state: review.state.toLowerCase() } : review;
}

/** The payload of one `event` delivery, from the REST-shaped objects it was built from. */
export function webhookShape(event: string, payload: Json): Json {
  const shaped: Json = { ...payload };
  if (isObject(shaped.repository)) shaped.repository = webhookRepository(shaped.repository, event);
  if (isObject(shaped.pull_request)) shaped.pull_request = webhookPullRequest(shaped.pull_request);
  if (isObject(shaped.review)) shaped.review = webhookReview(shaped.review);
  return shaped;
}
