import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import { HttpError, notFound, validationFailed } from "../http/errors.js";
import { created, ok, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { IssueRecord, PullRecord, RepoRecord, ReviewRecord } from "../state/types.js";
import { emitPull, fullPullJson, issueOf, pullKey } from "../pulls/lifecycle.js";
import { pullJson, reviewJson } from "../pulls/serialize.js";
import { headRepoOf, resolveHead, syncPullHeadRef } from "../pulls/heads.js";
import { fetchCommitInto } from "../git/fork.js";
import { fileJson, repoCommitJson } from "./commits.js";
import { applyTitleAndBody } from "./issues.js";

/** GitHub stops listing a PR's files at 3,000 and its commits at 250. */
export const PULL_FILES_CAP = 3000;
export const PULL_COMMITS_CAP = 250;

export function requirePull(core: SandboxCore, req: ApiRequest, repo: RepoRecord): PullRecord {
  const pr = core.state.pulls[pullKey(repo, Number(req.params.pull_number))];
  if (pr === undefined) throw notFound();
  return pr;
}

async function baseShaOf(core: SandboxCore, repo: RepoRecord, pr: PullRecord): Promise<string> {
  return (await core.gitRepo(repo).refSha(`refs/heads/${pr.base_ref}`)) ?? pr.head_sha;
}

/** `GET /pulls?head=`: `owner:branch` (GitHub's form) or a bare branch (of the base repository). */
function matchesHeadFilter(core: SandboxCore, repo: RepoRecord, pr: PullRecord, head: string): boolean {
  const colon = head.indexOf(":");
  const owner = colon === -1 ? repo.owner : head.slice(0, colon);
  const ref = colon === -1 ? head : head.slice(colon + 1);
  return pr.head_ref === ref && headRepoOf(core, repo, pr).owner.toLowerCase() === owner.toLowerCase();
}

export function registerPullRoutes(router: Router, core: SandboxCore): void {
  router.on("POST", "/repos/{owner}/{repo}/pulls", async (req) => {
    const repo = core.requireRepo(req, "read");
    const git = core.gitRepo(repo);
    const title = req.body.string("title");
    const headRaw = req.body.string("head");
    const base = req.body.string("base");
    // `owner:branch` may name a fork of the base (GitHub's `head_repo` names it explicitly).
    const spec = resolveHead(core, repo, headRaw, req.body.optString("head_repo"), req.actor);
    if (spec === null) throw validationFailed({ resource: "PullRequest", field: "head", code: "invalid" });
    const head = spec.ref;
    const headRepo = spec.repo === repo ? undefined : `${spec.repo.owner}/${spec.repo.name}`;
    const headSha = await core.gitRepo(spec.repo).refSha(`refs/heads/${head}`);
    if (headSha === null) throw validationFailed({ resource: "PullRequest", field: "head", code: "invalid" });
    // The head's objects must be in the base repository before anything compares it with the base.
    if (headRepo !== undefined) await fetchCommitInto(git.path, core.gitRepo(spec.repo).path, headSha);
    const baseSha = await git.refSha(`refs/heads/${base}`);
    if (baseSha === null) throw validationFailed({ resource: "PullRequest", field: "base", code: "invalid" });
    const full = `${repo.owner}/${repo.name}`;
    const duplicate = Object.values(core.state.pulls).find(
      (p) =>
        p.repo === full &&
        p.head_ref === head &&
        p.head_repo === headRepo &&
        p.base_ref === base &&
        core.state.issues[`${full}#${p.number}`]?.state === "open",
    );
    if (duplicate !== undefined)
      throw validationFailed({
        resource: "PullRequest",
        code: "custom",
        message: `A pull request already exists for ${spec.repo.owner}:${head}.`,
      });
    if ((await git.commitsBetween(baseSha, headSha)).length === 0)
      throw validationFailed({
        resource: "PullRequest",
        code: "custom",
        message: `No commits between ${base} and ${head}`,
      });
    const author = core.actingUser(req.actor);
    const number = core.state.nextNumber[full] ?? 1;
    core.state.nextNumber[full] = number + 1;
    const now = core.now();
    const issue: IssueRecord = {
      id: core.nextId(),
      repo: full,
      number,
      title,
      body: req.body.optString("body") ?? null,
      state: "open",
      state_reason: null,
      user: author.login,
      labels: [],
      assignees: [],
      created_at: now,
      updated_at: now,
      closed_at: null,
      closed_by: null,
      isPull: true,
    };
    const pr: PullRecord = {
      id: core.nextId(),
      repo: full,
      number,
      head_ref: head,
      head_sha: headSha,
      base_ref: base,
      draft: req.body.optBool("draft") ?? false,
      merged: false,
      merged_at: null,
      merged_by: null,
      merge_commit_sha: null,
      maintainer_can_modify: req.body.optBool("maintainer_can_modify") ?? false,
      last_pusher: author.login,
    };
    if (headRepo !== undefined) pr.head_repo = headRepo;
    core.state.issues[`${full}#${number}`] = issue;
    core.state.pulls[`${full}#${number}`] = pr;
    await syncPullHeadRef(core, repo, pr);
    await emitPull(core, repo, pr, "opened", author);
    return created(await fullPullJson(core, repo, pr));
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls", async (req) => {
    const repo = core.requireRepo(req);
    const full = `${repo.owner}/${repo.name}`;
    const state = req.query.get("state") ?? "open";
    const head = req.query.get("head");
    const base = req.query.get("base");
    const direction = req.query.get("direction") ?? "desc";
    const pulls = Object.values(core.state.pulls)
      .filter((p) => p.repo === full)
      .filter((p) => state === "all" || issueOf(core, p).state === state)
      .filter((p) => head === null || matchesHeadFilter(core, repo, p, head))
      .filter((p) => base === null || p.base_ref === base)
      .sort((a, b) => (direction === "asc" ? a.number - b.number : b.number - a.number));
    const page = paginate(req, pulls);
    const body = [];
    for (const p of page.body as PullRecord[])
      body.push(pullJson(core, repo, p, issueOf(core, p), await baseShaOf(core, repo, p)));
    return { ...page, body };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", async (req) => {
    const repo = core.requireRepo(req);
    return ok(await fullPullJson(core, repo, requirePull(core, req, repo)));
  });

  router.on("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", async (req) => {
    const repo = core.requireRepo(req, "read");
    const pr = requirePull(core, req, repo);
    const issue = issueOf(core, pr);
    const actor = core.actingUser(req.actor);
    if (issue.user !== actor.login && !roleAtLeast(core.role(req.actor, repo), "write"))
      throw new HttpError(403, "Must have push access to repository");
    const changes = applyTitleAndBody(req, issue);
    const base = req.body.optString("base");
    if (base !== undefined && base !== pr.base_ref) {
      if (pr.merged)
        throw validationFailed({
          resource: "PullRequest",
          field: "base",
          code: "invalid",
          message: "Cannot change the base branch of a closed pull request.",
        });
      const oldSha = await baseShaOf(core, repo, pr);
      if ((await core.gitRepo(repo).refSha(`refs/heads/${base}`)) === null)
        throw validationFailed({ resource: "PullRequest", field: "base", code: "invalid" });
      changes.base = { ref: { from: pr.base_ref }, sha: { from: oldSha } };
      pr.base_ref = base;
    }
    pr.maintainer_can_modify = req.body.optBool("maintainer_can_modify") ?? pr.maintainer_can_modify;
    const state = req.body.oneOf("state", ["open", "closed"] as const);
    issue.updated_at = core.now();
    if (Object.keys(changes).length > 0) await emitPull(core, repo, pr, "edited", actor, { changes });
    if (state !== undefined && state !== issue.state) {
      if (pr.merged)
        throw validationFailed({
          resource: "PullRequest",
          field: "state",
          code: "invalid",
          message: "Cannot reopen a merged pull request.",
        });
      issue.state = state;
      issue.closed_at = state === "closed" ? core.now() : null;
      issue.closed_by = state === "closed" ? actor.login : null;
      await emitPull(core, repo, pr, state === "closed" ? "closed" : "reopened", actor);
    }
    return ok(await fullPullJson(core, repo, pr));
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", async (req) => {
    const repo = core.requireRepo(req);
    const pr = requirePull(core, req, repo);
    const git = core.gitRepo(repo);
    const baseSha = await baseShaOf(core, repo, pr);
    const base = (await git.mergeBase(baseSha, pr.head_sha)) ?? baseSha;
    const files = await git.changedFiles(base, pr.head_sha);
    const page = paginate(req, files, { cap: PULL_FILES_CAP });
    const body = await Promise.all(
      (page.body as typeof files).map((f) => fileJson(core, repo, base, pr.head_sha, f, true)),
    );
    return { ...page, body };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", async (req) => {
    const repo = core.requireRepo(req);
    const pr = requirePull(core, req, repo);
    const shas = await core.gitRepo(repo).commitsBetween(await baseShaOf(core, repo, pr), pr.head_sha);
    const page = paginate(req, shas, { cap: PULL_COMMITS_CAP });
    const body = [];
    for (const sha of page.body as string[]) body.push(await repoCommitJson(core, repo, sha, false));
    return { ...page, body };
  });

  router.on("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", async (req) => {
    const repo = core.requireRepo(req);
    const git = core.gitRepo(repo);
    const sha = await git.resolveCommit(req.params.commit_sha ?? "");
    if (sha === null) throw new HttpError(422, `No commit found for SHA: ${req.params.commit_sha ?? ""}`);
    const full = `${repo.owner}/${repo.name}`;
    const matches: PullRecord[] = [];
    for (const pr of Object.values(core.state.pulls).filter((p) => p.repo === full)) {
      if (pr.head_sha === sha || pr.merge_commit_sha === sha) matches.push(pr);
      else if (await git.isAncestor(sha, pr.head_sha)) {
        const base = await baseShaOf(core, repo, pr);
        if (!pr.merged && !(await git.isAncestor(sha, base))) matches.push(pr);
      }
    }
    const page = paginate(
      req,
      matches.sort((a, b) => a.number - b.number),
    );
    const body = [];
    for (const p of page.body as PullRecord[])
      body.push(pullJson(core, repo, p, issueOf(core, p), await baseShaOf(core, repo, p)));
    return { ...page, body };
  });

  // ---- reviews ---------------------------------------------------------------------------------------

  const findReview = (req: ApiRequest, pr: PullRecord): ReviewRecord => {
    const review = core.state.reviews[String(req.params.review_id)];
    if (review === undefined || review.repo !== pr.repo || review.pull_number !== pr.number) throw notFound();
    return review;
  };

  const submit = async (
    repo: RepoRecord,
    pr: PullRecord,
    review: ReviewRecord,
    event: string,
    body: string,
  ) => {
    const issue = issueOf(core, pr);
    const state =
      event === "APPROVE" ? "APPROVED" : event === "REQUEST_CHANGES" ? "CHANGES_REQUESTED" : "COMMENTED";
    if (review.user === issue.user && state !== "COMMENTED") {
      throw new HttpError(422, "Unprocessable Entity", {
        errors: [
          {
            resource: "PullRequestReview",
            code: "custom",
            message:
              state === "APPROVED"
                ? "Can not approve your own pull request"
                : "Can not request changes on your own pull request",
          },
        ],
      });
    }
    if (state !== "APPROVED" && body === "" && review.body === "")
      throw new HttpError(422, "Unprocessable Entity", {
        errors: [
          {
            resource: "PullRequestReview",
            field: "body",
            code: "missing_field",
            message: "Body is required",
          },
        ],
      });
    review.state = state;
    if (body !== "") review.body = body;
    review.submitted_at = core.now();
    // GitHub moves a pull request's updated_at when a review is submitted.
    issue.updated_at = review.submitted_at;
    const sender = core.user(review.user) ?? core.appBot();
    core.emit(
      "pull_request_review",
      {
        action: "submitted",
        review: reviewJson(core, repo, review),
        pull_request: await fullPullJson(core, repo, pr),
      },
      { repo, sender },
    );
  };

  router.on("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", async (req) => {
    const repo = core.requireRepo(req, "read");
    const pr = requirePull(core, req, repo);
    const reviewer = core.actingUser(req.actor);
    const commitId = req.body.optString("commit_id") ?? pr.head_sha;
    if ((await core.gitRepo(repo).objectType(commitId)) !== "commit")
      throw validationFailed({ resource: "PullRequestReview", field: "commit_id", code: "invalid" });
    if (issueOf(core, pr).state !== "open" && !pr.merged)
      throw new HttpError(422, "Unprocessable Entity", {
        errors: [
          { resource: "PullRequestReview", code: "custom", message: "Can not review a closed pull request" },
        ],
      });
    const event = req.body.oneOf("event", ["APPROVE", "REQUEST_CHANGES", "COMMENT"] as const);
    const review: ReviewRecord = {
      id: core.nextId(),
      repo: pr.repo,
      pull_number: pr.number,
      user: reviewer.login,
      body: "",
      state: "PENDING",
      commit_id: commitId,
      submitted_at: core.now(),
    };
    if (event !== undefined) await submit(repo, pr, review, event, req.body.optString("body") ?? "");
    else review.body = req.body.optString("body") ?? "";
    core.state.reviews[String(review.id)] = review;
    return ok(reviewJson(core, repo, review));
  });

  router.on("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/events", async (req) => {
    const repo = core.requireRepo(req, "read");
    const pr = requirePull(core, req, repo);
    const review = findReview(req, pr);
    if (review.user !== core.actingUser(req.actor).login) throw notFound();
    if (review.state !== "PENDING")
      throw new HttpError(422, "Unprocessable Entity", {
        errors: [
          {
            resource: "PullRequestReview",
            code: "custom",
            message: "Can not submit a review that is not pending",
          },
        ],
      });
    const event = req.body.oneOf("event", ["APPROVE", "REQUEST_CHANGES", "COMMENT"] as const);
    if (event === undefined)
      throw validationFailed({ resource: "PullRequestReview", field: "event", code: "missing_field" });
    await submit(repo, pr, review, event, req.body.optString("body") ?? "");
    return ok(reviewJson(core, repo, review));
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (req) => {
    const repo = core.requireRepo(req);
    const pr = requirePull(core, req, repo);
    const viewer = req.actor === null ? null : core.actingUser(req.actor).login;
    const reviews = Object.values(core.state.reviews)
      .filter(
        (r) =>
          r.repo === pr.repo && r.pull_number === pr.number && (r.state !== "PENDING" || r.user === viewer),
      )
      .sort((a, b) => a.id - b.id);
    const page = paginate(req, reviews);
    return { ...page, body: (page.body as ReviewRecord[]).map((r) => reviewJson(core, repo, r)) };
  });

  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", (req) => {
    const repo = core.requireRepo(req);
    const pr = requirePull(core, req, repo);
    return ok(reviewJson(core, repo, findReview(req, pr)));
  });

  router.on(
    "PUT",
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals",
    async (req) => {
      const repo = core.requireRepo(req, "write");
      const pr = requirePull(core, req, repo);
      const review = findReview(req, pr);
      req.body.string("message");
      if (review.state !== "APPROVED" && review.state !== "CHANGES_REQUESTED")
        throw new HttpError(422, "Unprocessable Entity", {
          errors: [
            {
              resource: "PullRequestReview",
              code: "custom",
              message: `Can not dismiss a ${review.state.toLowerCase()} pull request review`,
            },
          ],
        });
      const restrictions =
        core.state.protections[`${repo.owner}/${repo.name}:${pr.base_ref}`]?.required_pull_request_reviews
          ?.dismissal_restrictions;
      const actor = core.actingUser(req.actor);
      if (
        restrictions !== null &&
        restrictions !== undefined &&
        req.actor?.kind === "user" &&
        core.userRole(actor, repo) !== "admin"
      ) {
        const allowed =
          restrictions.users.includes(actor.login) ||
          restrictions.teams.some(
            (slug) => core.state.teams[`${repo.owner}/${slug}`]?.members[actor.login] !== undefined,
          );
        if (!allowed) throw new HttpError(403, "You are not allowed to dismiss this review");
      }
      review.state = "DISMISSED";
      core.emit(
        "pull_request_review",
        {
          action: "dismissed",
          review: reviewJson(core, repo, review),
          pull_request: await fullPullJson(core, repo, pr),
        },
        { repo, sender: actor },
      );
      return ok(reviewJson(core, repo, review));
    },
  );
}
