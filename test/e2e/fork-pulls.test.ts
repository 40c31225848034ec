/**
 * End-to-end: pull requests from forks, the classic outsider path into a PR gate. mallory loses
 * her write access (an outsider who can only read the public acme/gitops), forks it, and opens PRs
 * from her fork. pullgate must gate them like any PR, reading policy, CODEOWNERS and the keyring
 * from the BASE branch only, never from the fork's head, and a landed fork PR publishes a record.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";
import { readRecords, recordHead } from "../helpers/records.js";

describe("e2e: pull requests from forks", () => {
  let h: AppHarness;
  let fork: { owner: string; name: string };

  beforeAll(async () => {
    h = await startAppHarness();
    const { olivia, mallory } = h.people;
    // mallory becomes an outsider: no collaborator role, so only the read a public repository gives.
    await olivia.octokit.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
      owner: ORG,
      repo: REPO,
      username: mallory.login,
    });
    const permission = await olivia.octokit.request(
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
      { owner: ORG, repo: REPO, username: mallory.login },
    );
    expect(permission.data.permission).toBe("read");
    fork = await h.t.fork(mallory, ORG, REPO);
    await h.settle();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** mallory commits `files` on a new `branch` of her fork (signed with `key`, default hers) and pushes it. */
  async function pushToFork(branch: string, files: Record<string, string>, key?: string) {
    const { mallory } = h.people;
    const dir = await h.t.clone(fork.owner, fork.name, mallory.token);
    expect((await h.t.git(dir, ["checkout", "-q", "-b", branch, "origin/main"])).code).toBe(0);
    const sha = await h.commit(dir, mallory, files, `fork change on ${branch}`, key);
    const pushed = await h.t.push(dir, `HEAD:refs/heads/${branch}`);
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
    return { dir, sha };
  }

  async function openFromFork(branch: string): Promise<number> {
    const { data } = await h.people.mallory.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: `From mallory's fork: ${branch}`,
      head: `${fork.owner}:${branch}`,
      base: "main",
    });
    expect(data.head.repo?.full_name).toBe(`${fork.owner}/${fork.name}`);
    await h.settle();
    return data.number;
  }

  it("the fork is mallory's own; she cannot push to acme/gitops any more", async () => {
    expect(fork).toEqual({ owner: "mallory", name: REPO });
    const dir = await h.clone(h.people.mallory);
    await h.commit(dir, h.people.mallory, { "clusters/dev/app.yaml": "replicas: 9\n" }, "direct");
    const pushed = await h.t.push(dir, "HEAD:refs/heads/direct");
    expect(pushed.code).not.toBe(0);
  });

  it("a signed fork PR is gated on its head: failure without a code owner's approval, a reader's approval does not count, the owner's does; the merge publishes a record", async () => {
    const { bob, carol, mallory, olivia } = h.people;
    const first = await pushToFork("scale-prod", { "clusters/prod/app.yaml": "replicas: 4\n" });
    const number = await openFromFork("scale-prod");

    let check = await h.check(first.sha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check)).toMatchObject({ pullRequest: number, headSha: first.sha, approvedBy: [] });
    // Her commit is signed by her key, which the base branch's keyring trusts.
    expect(decisionOf(check).signatures).toEqual([
      expect.objectContaining({ commit: first.sha, verified: true, format: "ssh" }),
    ]);
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");

    // carol can read acme/gitops but not write: GitHub takes her review, pullgate does not count it.
    await h.review(carol, number, "APPROVE");
    check = await h.check(first.sha);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain("@carol's approval does not count: read-only permission");
    expect(decisionOf(check).approvedBy).toEqual([]);

    // The code owner approves: success.
    await h.review(bob, number, "APPROVE");
    check = await h.check(first.sha);
    expect(check?.conclusion, readable(check)).toBe("success");
    expect(decisionOf(check).approvedBy).toEqual(["bob"]);

    // A re-run of a fork PR's check: GitHub names no PR in the event, so the app lists the open
    // PRs with this head, once; the evaluation reuses that listing rather than asking again.
    h.t.sandbox.instrumentation.resetCounts();
    await h.rerequest(first.sha, olivia);
    check = await h.check(first.sha);
    expect(check?.conclusion, readable(check)).toBe("success");
    const served = h.t.sandbox.instrumentation.servedRequestCounts();
    expect(served["GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"]).toBe(1);

    // A push to the fork's branch synchronizes the PR: the approval is stale, the new head fails.
    const dir = first.dir;
    const second = await h.commit(
      dir,
      mallory,
      { "clusters/prod/app.yaml": "replicas: 40\n" },
      "sneak in more",
    );
    expect((await h.t.push(dir, "HEAD:refs/heads/scale-prod")).code).toBe(0);
    await h.settle();
    const pr = await olivia.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: ORG,
      repo: REPO,
      pull_number: number,
    });
    expect(pr.data.head.sha).toBe(second);
    check = await h.check(second);
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check).lastPusher).toBe("mallory");
    expect(readable(check)).toContain(
      `@bob's approval does not count: approved older head ${first.sha.slice(0, 7)} (stale)`,
    );

    await h.review(bob, number, "APPROVE");
    check = await h.check(second);
    expect(check?.conclusion, readable(check)).toBe("success");

    // Landing it publishes a record naming the fork PR, on the reviewed tree.
    expect(await recordHead(h)).toBeNull();
    const merged = await olivia.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: ORG,
      repo: REPO,
      pull_number: number,
      merge_method: "squash",
    });
    await h.settle();
    expect(await recordHead(h)).not.toBeNull();
    const clone = await h.clone(olivia);
    const [record] = await readRecords(h, clone);
    expect(record?.trailers).toMatchObject({
      "Pullgate-Pull-Request": [String(number)],
      "Pullgate-Source-Commit": [merged.data.sha],
      "Pullgate-Approved-By": ["bob"],
    });
    // The fork's head is in acme/gitops as refs/pull/N/head (GitHub keeps it there too).
    const fetched = await h.t.git(clone, ["fetch", "--quiet", "origin", `refs/pull/${number}/head`]);
    expect(fetched.code, fetched.stderr).toBe(0);
    const headTree = (await h.t.git(clone, ["rev-parse", `${second}^{tree}`])).stdout.trim();
    expect(record?.tree).toBe(headTree);
  });

  it("attack: the fork's own policy, CODEOWNERS and allowed_signers are ignored (base branch only)", async () => {
    const { bob, carol } = h.people;
    const evilPolicy = [
      "version: 1",
      "defaults:",
      "  signatures:",
      "    required: false",
      "  reviews:",
      "    required_approvals: 0",
      "    require_code_owner_review: false",
      "branches:",
      "  - branch: main",
      "    environment: production",
      "",
    ].join("\n");
    const { sha } = await pushToFork(
      "takeover",
      {
        ".github/pullgate.yml": evilPolicy,
        ".github/CODEOWNERS": "* @mallory @carol\n",
        // A keyring that would trust the stranger's key for mallory (the commit is signed with it).
        ".github/pullgate/allowed_signers": `${h.people.mallory.email} namespaces="git" ${await publicKeyOf(h.strangerKey)}\n`,
        "clusters/prod/app.yaml": "replicas: 0\n",
      },
      h.strangerKey,
    );
    const number = await openFromFork("takeover");
    let check = await h.check(sha);
    expect(check?.conclusion).toBe("failure");
    const decision = decisionOf(check);
    // The base keyring does not know the stranger's key: the head's allowed_signers was not used.
    expect(decision.signatures).toEqual([expect.objectContaining({ commit: sha, verified: false })]);
    expect(decision.rules).toContainEqual({ id: "signatures", status: "fail" });
    // The base CODEOWNERS still asks for @acme/sre on prod and @acme/platform on .github.
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(readable(check)).toContain("@acme/platform");

    // carol, a code owner only in the fork's CODEOWNERS (and a reader), approves: still failing.
    await h.review(carol, number, "APPROVE");
    check = await h.check(sha);
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check).approvedBy).toEqual([]);

    // Even the real prod owner's approval cannot make an untrusted signature pass.
    await h.review(bob, number, "APPROVE");
    check = await h.check(sha);
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check).rules).toContainEqual({ id: "signatures", status: "fail" });

    // The fork's permissive policy would have passed this with no approval at all; the base's
    // policy (required signatures, one approval, code owners) is the one in force.
    expect(decisionOf(check).rules).toContainEqual({ id: "codeowners", status: "fail" });
  });

  async function publicKeyOf(privateKeyPath: string): Promise<string> {
    const { readFile } = await import("node:fs/promises");
    return (await readFile(`${privateKeyPath}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  }
});
