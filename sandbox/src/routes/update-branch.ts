import type { SandboxCore } from "../core.js";
import { HttpError } from "../http/errors.js";
import type { ApiResponse } from "../http/request.js";
import type { Router } from "../http/router.js";
import type { Actor } from "../auth/actor.js";
import { issueOf } from "../pulls/lifecycle.js";
import { requirePull } from "./pulls.js";
import { githubIdent, userIdent, writeWebFlowCommit } from "./repos.js";
import { writeRefViaApi } from "./gitdb.js";

/**
 * `PUT /repos/{o}/{r}/pulls/{n}/update-branch`: GitHub's "Update branch" button. It merges the base
 * branch's tip into the PR's head branch with a merge commit authored by the caller, committed by
 * GitHub and signed with the web-flow key, then moves the head branch as a push would (protection
 * on the head branch applies; a push webhook and `pull_request.synchronize` follow, with the caller
 * as sender). GitHub answers 202 and does the work asynchronously; the sandbox finishes it before
 * answering, so a client that polls sees the new head at once.
 */
export function registerUpdateBranchRoutes(router: Router, core: SandboxCore): void {
  router.on(
    "PUT",
    "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch",
    async (req): Promise<ApiResponse> => {
      const repo = core.requireRepo(req, "write");
      const pr = requirePull(core, req, repo);
      const actor = req.actor as Actor;
      const user = core.actingUser(actor);
      const expected = req.body.optString("expected_head_sha");
      const issue = issueOf(core, pr);
      if (pr.merged || issue.state !== "open")
        throw new HttpError(422, "Pull request is closed; it cannot be updated.");
      // The sandbox writes the merge to the base repository's head branch: not modelled for forks.
      if (pr.head_repo !== undefined)
        throw new HttpError(
          422,
          "Updating the branch of a pull request from a fork is not supported by the sandbox.",
        );
      if (expected !== undefined && expected !== pr.head_sha)
        throw new HttpError(422, "expected head sha didn't match current head ref.");
      const git = core.gitRepo(repo);
      const baseSha = await git.refSha(`refs/heads/${pr.base_ref}`);
      if (baseSha === null) throw new HttpError(422, "Base branch does not exist");
      const head = pr.head_sha;
      if (await git.isAncestor(baseSha, head))
        throw new HttpError(422, "There are no new commits on the base branch.");
      const tree = await git.mergeTree(head, baseSha);
      if (tree === null) throw new HttpError(422, "merge conflict between base and head");
      const merge = await writeWebFlowCommit(core, git, {
        tree,
        parents: [head, baseSha],
        author: userIdent(user),
        committer: githubIdent(),
        message: `Merge branch '${pr.base_ref}' into ${pr.head_ref}`,
      });
      // Fast-forward only from the head we merged: a push that raced us makes this a 422, as on GitHub.
      await writeRefViaApi(core, repo, actor, `refs/heads/${pr.head_ref}`, merge, { force: false });
      return {
        status: 202,
        body: {
          message: "Updating pull request branch.",
          url: `${core.origin}/${repo.owner}/${repo.name}/pull/${pr.number}`,
        },
      };
    },
  );
}
