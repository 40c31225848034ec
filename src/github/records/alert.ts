import type { GitHub, RepoRef } from "../octokit.js";

export const ALERT_LABEL = "pullgate-alert";
export const ALERT_STATUS_CONTEXT = "pullgate/record";

export interface Bypass {
  branch: string;
  environment: string;
  commit: string;
  pusher: string;
  reason: string;
}

function describe(b: Bypass): string {
  return [
    `**${b.commit.slice(0, 7)}** reached \`${b.branch}\` (environment \`${b.environment}\`) without an approved pull request.`,
    "",
    `- Commit: ${b.commit}`,
    `- Pushed by: @${b.pusher}`,
    `- Why no record: ${b.reason}`,
    "",
    `No approved-revision record was published, so agents keep deploying the last approved revision of \`${b.environment}\`. Revert the change, or bring it through a pull request that pullgate approves.`,
  ].join("\n");
}

/**
 * Raises the alarm for a commit that reached a governed branch another way: a failing commit
 * status on that commit, and one open issue per repository (labelled) that gathers every event as
 * a comment, rather than one issue per event.
 */
export async function raiseBypassAlert(
  gh: GitHub,
  repo: RepoRef,
  bypass: Bypass,
): Promise<{ issue: number }> {
  await gh.rest.repos.createCommitStatus({
    ...repo,
    sha: bypass.commit,
    state: "failure",
    context: ALERT_STATUS_CONTEXT,
    description: `No approved-revision record: ${bypass.reason}`.slice(0, 140),
  });
  const open = await gh.rest.issues.listForRepo({ ...repo, labels: ALERT_LABEL, state: "open", per_page: 1 });
  const existing = open.data.find((i) => !i.pull_request);
  if (existing) {
    await gh.rest.issues.createComment({ ...repo, issue_number: existing.number, body: describe(bypass) });
    return { issue: existing.number };
  }
  const created = await gh.rest.issues.create({
    ...repo,
    title: `pullgate: changes reached governed branches without approval`,
    labels: [ALERT_LABEL],
    body: `pullgate found commits on governed branches that did not come through an approved pull request. Each event is listed below and in the comments.\n\n${describe(bypass)}`,
  });
  return { issue: created.data.number };
}
