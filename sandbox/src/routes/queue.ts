import type { SandboxCore } from "../core.js";
import type { Actor } from "../auth/actor.js";
import { created, noContent, type ApiRequest } from "../http/request.js";
import { paginate } from "../http/pagination.js";
import type { Router } from "../http/router.js";
import type { MergeQueueEntryRecord, RepoRecord } from "../state/types.js";
import { enqueue, queueOf, removeFromQueue } from "../queue/engine.js";
import { requirePull } from "./pulls.js";

function entryJson(core: SandboxCore, repo: RepoRecord, entry: MergeQueueEntryRecord, position: number) {
  return {
    position,
    pull_number: entry.number,
    head_sha: entry.head_sha,
    base_ref: entry.base_ref,
    enqueued_by: core.userJson(entry.enqueued_by),
    enqueued_at: entry.enqueued_at,
    merge_group:
      entry.group === null
        ? null
        : {
            head_sha: entry.group.head_sha,
            head_ref: entry.group.head_ref,
            base_sha: entry.group.base_sha,
            base_ref: `refs/heads/${entry.base_ref}`,
          },
    url: `${core.apiUrl}/sandbox/repos/${repo.owner}/${repo.name}/pulls/${entry.number}/queue`,
  };
}

/**
 * Sandbox-only merge-queue endpoints. GitHub enqueues and dequeues through GraphQL
 * (`enqueuePullRequest` / `dequeuePullRequest`), which the sandbox does not serve; these act the
 * same way as the token's user (write access needed, as on GitHub).
 */
export function registerQueueRoutes(router: Router, core: SandboxCore): void {
  const position = (repo: RepoRecord, entry: MergeQueueEntryRecord) =>
    queueOf(core, repo, entry.base_ref).indexOf(entry) + 1;

  router.on("PUT", "/sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue", async (req: ApiRequest) => {
    const repo = core.requireRepo(req, "write");
    const pr = requirePull(core, req, repo);
    const release = core.webhooks.hold();
    try {
      const entry = await enqueue(core, repo, pr, req.actor as Actor);
      // position 0: it already left the queue (landed at once, or failed to build).
      return created(entryJson(core, repo, entry, position(repo, entry)));
    } finally {
      release();
    }
  });

  router.on("DELETE", "/sandbox/repos/{owner}/{repo}/pulls/{pull_number}/queue", async (req: ApiRequest) => {
    const repo = core.requireRepo(req, "write");
    const pr = requirePull(core, req, repo);
    const release = core.webhooks.hold();
    try {
      await removeFromQueue(core, repo, pr, req.actor as Actor);
      return noContent();
    } finally {
      release();
    }
  });

  router.on("GET", "/sandbox/repos/{owner}/{repo}/queue/{branch+}", (req: ApiRequest) => {
    const repo = core.requireRepo(req);
    const entries = queueOf(core, repo, req.params.branch ?? "");
    return paginate(
      req,
      entries.map((e, i) => entryJson(core, repo, e, i + 1)),
    );
  });
}
