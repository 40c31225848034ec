/** The steps the scenarios repeat: an approved PR on the current main, and reading checks. */
import type { CheckView, World } from "../../../src/demo/world.js";
import { CHECK_NAME } from "../../../src/github/check-run.js";
import { decodeDecision } from "../../../src/github/decision.js";
import type { Cluster } from "./cluster.js";

export interface ApprovedPull {
  number: number;
  headSha: string;
}

/** Opens a PR by alice changing production and has bob (@acme/sre, code owner) approve it. */
export async function approvedPull(c: Cluster, branch: string, content: string): Promise<ApprovedPull> {
  const { alice, bob } = c.world.people;
  const pr = await c.world.openPull(alice, branch, { "clusters/prod/app.yaml": content });
  await c.settle();
  await c.world.review(bob, pr.number, "APPROVE");
  await c.settle();
  return { number: pr.number, headSha: pr.headSha };
}

export interface RunView {
  id: number;
  status: string;
  conclusion: string | null;
  /** Rule ids with status "error" in the run's embedded decision (e.g. "facts": fail-closed). */
  errorRules: string[];
}

/** Every pullgate check run on a SHA, oldest first. */
export async function checkRuns(world: World, sha: string): Promise<RunView[]> {
  const { data } = await world.admin.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
    owner: world.org,
    repo: world.repo,
    ref: sha,
    check_name: CHECK_NAME,
    filter: "all",
    per_page: 100,
  });
  return data.check_runs
    .map((r) => ({
      id: Number(r.id),
      status: r.status,
      conclusion: r.conclusion,
      errorRules: (decodeDecision(r.output.text)?.rules ?? [])
        .filter((x) => x.status === "error")
        .map((x) => x.id),
    }))
    .sort((a, b) => a.id - b.id);
}

/** The latest pullgate check on a SHA (what GitHub shows and branch protection reads). */
export async function latestCheck(c: Cluster, sha: string): Promise<CheckView | null> {
  await c.settle();
  return c.world.check(sha);
}
