/**
 * End to end: GitHub's "Update branch" (PUT pulls/{n}/update-branch) on a PR that fell behind.
 * The sandbox makes the same merge commit GitHub does (committed by GitHub, signed with the
 * web-flow key), and pullgate judges it by the branch's policy (docs/policy.md `trust_web_flow`):
 * - trusted (web-flow key in a keyring on the base branch, trust_web_flow on): the merge commit
 *   passes the signature rule, the stale approval is void, a fresh approval makes the check pass,
 *   and the merge publishes a record whose tree is the approved head's (the PR is up to date now);
 * - not trusted (the default): the merge commit fails the signature rule and the check says how
 *   to fix it; a forged "GitHub" merge commit without the web-flow signature is refused either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { gitopsPolicy } from "../../src/demo/seed.js";
import { mergePull, openApprovedPull, readRecords, recordHead } from "../helpers/records.js";

const WEB_FLOW_KEYRING = ".github/pullgate/web-flow.asc";

/** A policy that trusts GitHub's merges, with the sandbox's web-flow key seeded as a keyring. */
const TRUSTING_WEB_FLOW = {
  policy: gitopsPolicy({ openpgpKeyrings: [WEB_FLOW_KEYRING], trustWebFlow: true }),
  seedFiles: (sandbox: { webFlowPublicKey: string }) => ({ [WEB_FLOW_KEYRING]: sandbox.webFlowPublicKey }),
};

async function updateBranch(h: AppHarness, number: number, expectedHead: string): Promise<string> {
  const { alice } = h.people;
  const res = await alice.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch", {
    owner: ORG,
    repo: REPO,
    pull_number: number,
    expected_head_sha: expectedHead,
  });
  expect(res.status).toBe(202);
  await h.settle();
  const { data } = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    owner: ORG,
    repo: REPO,
    pull_number: number,
  });
  expect(data.head.sha).not.toBe(expectedHead);
  return data.head.sha;
}

/** Lands another approved PR so that `main` moves past the PRs opened before it. */
async function moveMain(h: AppHarness, branch: string, file: string): Promise<string> {
  const { alice, olivia } = h.people;
  const other = await openApprovedPull(h, alice, olivia, branch, [{ [file]: `${branch}\n` }]);
  return mergePull(h, olivia, other.number, "merge");
}

describe("e2e: 'Update branch' with the web-flow key trusted", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness(TRUSTING_WEB_FLOW);
  });
  afterAll(async () => h?.close());

  it("the web-flow merge passes, the stale approval is void, re-approval passes, and the merge gets a record", async () => {
    const { alice, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, olivia, "behind", [
      { "clusters/dev/app.yaml": "replicas: 3\n" },
    ]);
    await moveMain(h, "ahead", "clusters/dev/other.yaml");
    expect(await recordHead(h)).not.toBeNull(); // the PR that moved main got record #1

    const head = await updateBranch(h, pr.number, pr.headSha);
    const stale = await h.check(head);
    expect(stale?.conclusion).toBe("failure");
    // Only the approval is missing: the signature rule accepted GitHub's merge commit.
    expect(stale?.summary).not.toMatch(/signature/i);
    expect(stale?.decision?.status).toBe("fail");

    await h.review(olivia, pr.number, "APPROVE", head);
    const fresh = await h.check(head);
    expect(fresh?.conclusion, fresh?.text).toBe("success");
    expect(fresh?.text).toContain(`${head.slice(0, 7)} merge made by GitHub`);

    const landed = await mergePull(h, olivia, pr.number, "merge");
    const records = await readRecords(h, await h.clone(olivia)); // newest first
    expect(records.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(["2", "1"]);
    expect(records[0]?.trailers["Pullgate-Source-Commit"]?.[0]).toBe(landed);
    // The record holds exactly the tree that was approved: the updated head's.
    const { data: approved } = await olivia.octokit.request(
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
      {
        owner: ORG,
        repo: REPO,
        commit_sha: head,
      },
    );
    expect(records[0]?.tree).toBe(approved.tree.sha);
  });
});

describe("e2e: 'Update branch' with the web-flow key trusted: forgeries", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness(TRUSTING_WEB_FLOW);
  });
  afterAll(async () => h?.close());

  it("a merge commit that claims to be GitHub's but carries no web-flow signature is refused", async () => {
    const { alice, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, olivia, "forged", [
      { "clusters/dev/app.yaml": "replicas: 3\n" },
    ]);
    await moveMain(h, "ahead", "clusters/dev/other.yaml");
    // The attacker makes the "Update branch" merge herself, committed as GitHub, unsigned.
    const github = { GIT_COMMITTER_NAME: "GitHub", GIT_COMMITTER_EMAIL: "noreply@github.com" };
    expect((await h.t.git(pr.dir, ["fetch", "-q", "origin", "main"])).code).toBe(0);
    const merged = await h.t.git(
      pr.dir,
      ["-c", "user.name=alice", "-c", `user.email=${alice.email}`, "merge", "--no-edit", "-q", "FETCH_HEAD"],
      github,
    );
    expect(merged.code, merged.stderr).toBe(0);
    const head = (await h.t.git(pr.dir, ["rev-parse", "HEAD"])).stdout.trim();
    expect((await h.t.push(pr.dir, "HEAD:refs/heads/forged")).code).toBe(0);
    await h.settle();
    await h.review(olivia, pr.number, "APPROVE", head);
    const check = await h.check(head);
    expect(check?.conclusion).toBe("failure");
    expect(check?.text).not.toContain(`${head.slice(0, 7)} merge made by GitHub`);
    expect(`${check?.summary}\n${check?.text}`).toContain(head.slice(0, 7));
  });
});

describe("e2e: 'Update branch' without web-flow trust (the default policy)", () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => h?.close());

  it("GitHub's merge commit fails the signature rule, and the check says how to fix it", async () => {
    const { alice, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, olivia, "behind", [
      { "clusters/dev/app.yaml": "replicas: 3\n" },
    ]);
    await moveMain(h, "ahead", "clusters/dev/other.yaml");
    const head = await updateBranch(h, pr.number, pr.headSha);
    await h.review(olivia, pr.number, "APPROVE", head);
    const check = await h.check(head);
    expect(check?.conclusion).toBe("failure");
    expect(`${check?.summary}\n${check?.text}`).toContain(head.slice(0, 7));
    expect(check?.text).toContain("git commit --amend --no-edit -S");
  });
});
