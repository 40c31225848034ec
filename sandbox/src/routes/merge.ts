import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { SandboxCore } from "../core.js";
import { HttpError, notFound } from "../http/errors.js";
import { noContent, ok } from "../http/request.js";
import type { Router } from "../http/router.js";
import type { Actor } from "../auth/actor.js";
import type { PullRecord, RepoRecord, UserRecord } from "../state/types.js";
import { checkMerge } from "../protection/enforce.js";
import { rulesFor } from "../protection/rulesets.js";
import { commitVerification } from "../signing/known.js";
import { emitPull, issueOf } from "../pulls/lifecycle.js";
import { headLabel } from "../pulls/heads.js";
import { afterRefUpdates } from "../pushes.js";
import { githubIdent, userIdent, writeWebFlowCommit } from "./repos.js";
import { requirePull } from "./pulls.js";

export type Method = "merge" | "squash" | "rebase";

function requiresSignatures(core: SandboxCore, repo: RepoRecord, branch: string): boolean {
  if (core.state.protections[`${repo.owner}/${repo.name}:${branch}`]?.required_signatures === true)
    return true;
  return rulesFor(core, repo, branch).some((r) => r.type === "required_signatures");
}

/**
 * Makes the commit(s) a merge lands, as GitHub does: `merge` = a two-parent merge commit and
 * `squash` = a one-parent commit with the merged tree, both committed by "GitHub" and signed
 * with the web-flow key; `rebase` = each PR commit replayed onto the base, unsigned, committed
 * by the merger. Returns the new base tip, or null on conflict.
 */
export async function makeMergeCommit(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  method: Method,
  baseSha: string,
  merger: UserRecord,
  title: string | undefined,
  message: string | undefined,
): Promise<string | null> {
  const git = core.gitRepo(repo);
  const issue = issueOf(core, pr);
  if (method === "rebase") {
    const commits = await git.commitsBetween(baseSha, pr.head_sha);
    const temp = mkdtempSync(join(core.dir, "rebase-"));
    try {
      let tip = baseSha;
      for (const sha of commits) {
        const original = await git.readCommit(sha);
        if (original === null || original.parsed.parents.length > 1) return null;
        const tree = await git.replayTree(sha, tip, join(temp, "index"));
        if (tree === null) return null;
        tip = await git.writeCommit({
          tree,
          parents: [tip],
          author: original.parsed.author,
          committer: userIdent(merger),
          message: original.parsed.message,
        });
      }
      return tip;
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  }
  const tree = await git.mergeTree(baseSha, pr.head_sha);
  if (tree === null) return null;
  const author = core.user(method === "squash" ? issue.user : merger.login) ?? merger;
  if (method === "merge") {
    const subject =
      title ?? `Merge pull request #${pr.number} from ${headLabel(core, repo, pr).replace(":", "/")}`;
    const body = message ?? issue.title;
    return writeWebFlowCommit(core, git, {
      tree,
      parents: [baseSha, pr.head_sha],
      author: userIdent(author),
      committer: githubIdent(),
      message: `${subject}\n\n${body}`,
    });
  }
  const subject = title ?? `${issue.title} (#${pr.number})`;
  let body = message;
  if (body === undefined) {
    const lines = [];
    for (const sha of await git.commitsBetween(baseSha, pr.head_sha)) {
      const c = await git.readCommit(sha);
      if (c !== null) lines.push(`* ${c.parsed.message.trim()}`);
    }
    body = lines.join("\n\n");
  }
  return writeWebFlowCommit(core, git, {
    tree,
    parents: [baseSha],
    author: userIdent(author),
    committer: githubIdent(),
    message: body === "" ? subject : `${subject}\n\n${body}`,
  });
}

export function registerMergeRoutes(router: Router, core: SandboxCore): void {
  router.on("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", (req) => {
    const repo = core.requireRepo(req);
    if (!requirePull(core, req, repo).merged) throw notFound();
    return noContent();
  });

  router.on("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", async (req) => {
    const repo = core.requireRepo(req, "write");
    const pr = requirePull(core, req, repo);
    const actor = req.actor as Actor;
    const merger = core.actingUser(actor);
    const method = req.body.oneOf("merge_method", ["merge", "squash", "rebase"] as const) ?? "merge";
    const expectedSha = req.body.optString("sha");
    const title = req.body.optString("commit_title");
    const message = req.body.optString("commit_message");
    const allowed = {
      merge: repo.allow_merge_commit,
      squash: repo.allow_squash_merge,
      rebase: repo.allow_rebase_merge,
    }[method];
    if (!allowed) {
      const what = { merge: "Merge commits", squash: "Squash merges", rebase: "Rebase merges" }[method];
      throw new HttpError(405, `${what} are not allowed on this repository.`);
    }
    const release = core.webhooks.hold();
    try {
      return await core.mutex.run(`${repo.owner}/${repo.name}`, async () => {
        const git = core.gitRepo(repo);
        const issue = issueOf(core, pr);
        if (pr.merged || issue.state !== "open") throw new HttpError(405, "Pull Request is not mergeable");
        if (expectedSha !== undefined && expectedSha !== pr.head_sha)
          throw new HttpError(409, "Head branch was modified. Review and try the merge again.");
        if (pr.draft) throw new HttpError(405, "Pull Request is still a draft");
        const baseRef = `refs/heads/${pr.base_ref}`;
        const baseSha = await git.refSha(baseRef);
        if (baseSha === null) throw new HttpError(405, "Base branch does not exist");
        let unverifiedCommits = 0;
        if (requiresSignatures(core, repo, pr.base_ref)) {
          for (const sha of await git.commitsBetween(baseSha, pr.head_sha)) {
            const c = await git.readCommit(sha);
            if (c === null || !(await commitVerification(core, sha, c.parsed)).verified) unverifiedCommits++;
          }
        }
        const reasons = await checkMerge(core, repo, pr, issue.user, actor, method, {
          baseSha,
          upToDate: await git.isAncestor(baseSha, pr.head_sha),
          unverifiedCommits,
        });
        if (reasons.length > 0) throw new HttpError(405, reasons.join("\n"));
        const newTip = await makeMergeCommit(core, repo, pr, method, baseSha, merger, title, message);
        if (newTip === null) throw new HttpError(405, "Pull Request is not mergeable");
        if (!(await git.updateRef(baseRef, newTip, baseSha)))
          throw new HttpError(409, "Base branch was modified. Review and try the merge again.");
        const now = core.now();
        pr.merged = true;
        pr.merged_at = now;
        pr.merged_by = merger.login;
        pr.merge_commit_sha = newTip;
        issue.state = "closed";
        issue.closed_at = now;
        issue.closed_by = merger.login;
        issue.updated_at = now;
        repo.pushed_at = now;
        await afterRefUpdates(core, repo, [{ ref: baseRef, before: baseSha, after: newTip }], merger);
        await emitPull(core, repo, pr, "closed", merger);
        return ok({ sha: newTip, merged: true, message: "Pull Request successfully merged" });
      });
    } finally {
      release();
    }
  });
}
