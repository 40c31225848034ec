/**
 * End-to-end attacks through what a PR contains and where it points: unsigned and untrusted
 * commits, CODEOWNERS and policy loosened inside the PR, retargeting, a change too big to see,
 * and the compliant path with a merge commit. Real Probot server, HMAC-signed webhooks, sandbox.
 * One harness; each scenario has its own branch. The merge scenario, which moves main, runs last.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  basePolicy,
  ORG,
  REPO,
  startAppHarness,
  type AppHarness,
  type Person,
} from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";

const short = (sha: string) => sha.slice(0, 7);
const SIGN_FIX = (sha: string) =>
  `Sign commit ${short(sha)} with a key listed in .github/pullgate/allowed_signers: git commit --amend --no-edit -S (older commits: git rebase --exec "git commit --amend --no-edit -S" <base>), then force-push.`;

/** A second governed branch with a much weaker policy: no signatures, no reviews. */
const WEAK_BRANCH = [
  "  - branch: playground",
  "    environment: playground",
  "    signatures:",
  "      required: false",
  "    reviews:",
  "      required_approvals: 0",
  "      require_code_owner_review: false",
  "",
].join("\n");

describe("e2e attacks through the change itself", () => {
  let h: AppHarness;
  let mainSha: string;
  /** The digest of the base branch's policy, as a compliant PR's check reports it. */
  let basePolicyDigest: string;

  beforeAll(async () => {
    h = await startAppHarness({ policy: basePolicy(WEAK_BRANCH) });
    const { data } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: "heads/main",
    });
    mainSha = data.object.sha;
  });
  afterAll(async () => {
    await h?.close();
  });

  const patchBase = async (who: Person, number: number, base: string) => {
    await who.octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: ORG,
      repo: REPO,
      pull_number: number,
      base,
    });
    await h.settle();
  };

  it("1. an unsigned commit fails, naming the commit and how to sign it", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(
      alice,
      "attack-1-unsigned",
      { "clusters/prod/app.yaml": "replicas: 11\n" },
      {
        key: null,
      },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain(`commit <code>${short(pr.headSha)}</code>: no signature`);
    expect(fixes(check)).toEqual([SIGN_FIX(pr.headSha)]);
    // Only the signature is missing: the review rules passed.
    expect(
      decisionOf(check)
        .rules.filter((r) => r.status !== "pass")
        .map((r) => r.id),
    ).toEqual(["signatures"]);
    expect(decisionOf(check).signatures).toEqual([
      { commit: pr.headSha, verified: false, format: "none", key: null },
    ]);
    basePolicyDigest = decisionOf(check).policyDigest;
  });

  it("2. a commit signed by a key nobody listed fails, naming the commit", async () => {
    const { alice, bob } = h.people;
    const pr = await h.openPull(
      alice,
      "attack-2-stranger",
      { "clusters/prod/app.yaml": "replicas: 12\n" },
      {
        key: h.strangerKey,
      },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toContain(`commit <code>${short(pr.headSha)}</code>: `);
    expect(fixes(check)).toEqual([SIGN_FIX(pr.headSha)]);
    const [signature] = decisionOf(check).signatures;
    expect(signature).toMatchObject({ commit: pr.headSha, verified: false, format: "ssh" });
  });

  it("2b. adding your own key to allowed_signers inside the PR does not make it trusted: the keyring comes from the base", async () => {
    const { alice, bob } = h.people;
    const strangerPub = readFileSync(`${h.strangerKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    const pr = await h.openPull(
      alice,
      "attack-2b-keyring",
      {
        ".github/pullgate/allowed_signers":
          Object.values(h.people)
            .map((p) => p.allowedSigner)
            .join("\n") + `\n${alice.email} namespaces="git" ${strangerPub}\n`,
        "clusters/prod/app.yaml": "replicas: 18\n",
      },
      { key: h.strangerKey },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const fix = fixes(check);
    expect(fix).toContain(SIGN_FIX(pr.headSha));
    expect(fix).toContain(
      "Get an approval of the current head from a policy admin (@acme/platform) for .github/pullgate/allowed_signers.",
    );
    expect(decisionOf(check).signatures[0]).toMatchObject({ commit: pr.headSha, verified: false });
  });

  it("6. CODEOWNERS loosened inside the PR is ignored: @acme/sre and a policy admin are still required", async () => {
    const { alice, mallory } = h.people;
    const pr = await h.openPull(alice, "attack-6-codeowners", {
      ".github/CODEOWNERS": "* @acme/platform\n/clusters/prod/ @alice @mallory\n",
      "clusters/prod/app.yaml": "replicas: 13\n",
    });
    await h.review(mallory, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const fix = fixes(check);
    expect(fix).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(fix).toContain("Get an approval from one of @acme/platform for .github/CODEOWNERS.");
    expect(fix).toContain(
      "Get an approval of the current head from a policy admin (@acme/platform) for .github/CODEOWNERS.",
    );
    expect(readable(check)).toContain("Sensitive paths");
    const decision = decisionOf(check);
    expect(decision.baseSha).toBe(mainSha);
    expect(decision.rules).toEqual(
      expect.arrayContaining([
        { id: "codeowners", status: "fail" },
        { id: "sensitive-paths", status: "fail" },
      ]),
    );
  });

  it("7. a policy loosened inside the PR (no approvals, no signatures) is ignored: the base policy applies", async () => {
    const { alice } = h.people;
    const loosened = [
      "version: 1",
      'admins: ["@acme/platform"]',
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
    const pr = await h.openPull(
      alice,
      "attack-7-policy",
      { ".github/pullgate.yml": loosened, "clusters/prod/app.yaml": "replicas: 14\n" },
      { key: null },
    );
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const fix = fixes(check);
    expect(fix).toContain(SIGN_FIX(pr.headSha));
    expect(fix).toContain("Get 1 more approval from reviewers with write access other than the author.");
    expect(fix).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(fix).toContain(
      "Get an approval of the current head from a policy admin (@acme/platform) for .github/pullgate.yml.",
    );
    // The digest is the base branch's policy, the same as every other PR into main.
    expect(decisionOf(check).policyDigest).toBe(basePolicyDigest);
    expect(check?.summary).toContain(basePolicyDigest);
  });

  it("7b. a broken policy on the base branch fails every PR into it closed, naming file, line and column", async () => {
    const { alice, olivia } = h.people;
    const dir = await h.clone(olivia);
    await h.t.git(dir, ["checkout", "-q", "-b", "broken-base", "origin/main"]);
    await h.commit(
      dir,
      olivia,
      { ".github/pullgate.yml": basePolicy().replace("required_approvals: 1", "required_approvals: many") },
      "a typo in the policy",
    );
    expect((await h.t.push(dir, "HEAD:refs/heads/broken-base")).code).toBe(0);
    await h.settle();
    const pr = await h.openPull(
      alice,
      "attack-7b-into-broken",
      { "clusters/dev/app.yaml": "replicas: 19\n" },
      {
        base: "broken-base",
      },
    );
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(readable(check)).toMatch(
      /the pullgate policy is invalid or loosens the org policy: acme\/gitops@[0-9a-f]{7}:\.github\/pullgate\.yml:\d+:\d+: /,
    );
    expect(fixes(check)).toEqual([
      "Fix the policy at the places named above on the base branch (an admin's change, checked with `pullgate policy lint`); until then no pull request into it can pass.",
    ]);
  });

  it("8. retargeting re-evaluates against the new base: governed → ungoverned → governed", async () => {
    const { alice, olivia } = h.people;
    await olivia.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: ORG,
      repo: REPO,
      ref: "refs/heads/staging",
      sha: mainSha,
    });
    await h.settle();
    const pr = await h.openPull(
      alice,
      "attack-8-retarget",
      { "clusters/prod/app.yaml": "replicas: 15\n" },
      {
        key: null,
      },
    );
    const first = await h.check(pr.headSha);
    expect(first?.conclusion).toBe("failure");

    await patchBase(alice, pr.number, "staging");
    const ungoverned = await h.check(pr.headSha);
    expect(ungoverned?.id).toBeGreaterThan(first?.id ?? Infinity);
    expect(ungoverned?.conclusion).toBe("neutral");
    expect(ungoverned?.title).toBe("No pullgate policy governs staging");

    await patchBase(alice, pr.number, "main");
    const governed = await h.check(pr.headSha);
    expect(governed?.id).toBeGreaterThan(ungoverned?.id ?? Infinity);
    expect(governed?.conclusion).toBe("failure");
    expect(fixes(governed)).toContain(SIGN_FIX(pr.headSha));
    expect(decisionOf(governed).baseRef).toBe("main");
  });

  it("8b. a second PR of the same head into an ungoverned branch cannot turn the head's check neutral", async () => {
    const { alice } = h.people;
    // Check runs belong to a commit, not to a PR: GitHub shows the head's latest pullgate check on
    // every PR with that head, and counts "neutral" as passing a required check.
    const governed = await h.openPull(
      alice,
      "attack-8b-shared",
      { "clusters/prod/app.yaml": "replicas: 17\n" },
      {
        key: null,
      },
    );
    expect((await h.check(governed.headSha))?.conclusion).toBe("failure");
    const { data: decoy } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "same head, ungoverned base",
      head: "attack-8b-shared",
      base: "staging",
    });
    await h.settle();
    const check = await h.check(governed.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check).pullRequest).toBe(governed.number);
    expect(fixes(check)).toContain(SIGN_FIX(governed.headSha));
    expect(readable(check)).toContain(`#${decoy.number}`);
  });

  it("8c. retargeting to a governed branch with a weaker policy applies that policy, and back to main applies main's", async () => {
    const { alice, olivia } = h.people;
    await olivia.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
      owner: ORG,
      repo: REPO,
      ref: "refs/heads/playground",
      sha: mainSha,
    });
    await h.settle();
    const pr = await h.openPull(
      alice,
      "attack-8c-weaker",
      { "clusters/prod/app.yaml": "replicas: 20\n" },
      {
        key: null,
      },
    );
    expect((await h.check(pr.headSha))?.conclusion).toBe("failure");
    await patchBase(alice, pr.number, "playground");
    const weak = await h.check(pr.headSha);
    expect(weak?.conclusion).toBe("success");
    expect(decisionOf(weak)).toMatchObject({ baseRef: "playground", environment: "playground" });
    await patchBase(alice, pr.number, "main");
    const strict = await h.check(pr.headSha);
    expect(strict?.conclusion).toBe("failure");
    expect(decisionOf(strict)).toMatchObject({ baseRef: "main", environment: "production" });
    expect(fixes(strict)).toContain(SIGN_FIX(pr.headSha));
    expect(fixes(strict)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
  });

  it("8d. a second PR of the same head into the weaker branch cannot turn the head's check green", async () => {
    const { alice } = h.people;
    const governed = await h.openPull(
      alice,
      "attack-8d-shared",
      { "clusters/prod/app.yaml": "replicas: 21\n" },
      {
        key: null,
      },
    );
    const { data: decoy } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "same head, weaker base",
      head: "attack-8d-shared",
      base: "playground",
    });
    await h.settle();
    const check = await h.check(governed.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(decisionOf(check)).toMatchObject({ pullRequest: governed.number, baseRef: "main" });
    expect(fixes(check)).toContain(SIGN_FIX(governed.headSha));
    expect(readable(check)).toContain(
      `This head is also the head of #${decoy.number} into playground: passes.`,
    );
  });

  it("9. a PR of more than 3,000 files fails closed: pullgate cannot see the whole change", async () => {
    const { alice } = h.people;
    const files: Record<string, string> = {};
    for (let i = 0; i <= 3_000; i++) files[`clusters/dev/many/f${i}.yaml`] = `n: ${i}\n`;
    const pr = await h.openPull(alice, "attack-9-huge", files);
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    expect(text).toContain("the pull request changes 3001 files");
    expect(text).toContain("cannot see the whole change");
    // Re-running cannot help here, so the fix says what will.
    expect(fixes(check)).toEqual(["Split it into pull requests of at most 3000 files each."]);
  });

  it("15. the compliant path with a merge commit: a signed merge of main into the branch passes once approved, and merging publishes a record", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await h.openPull(alice, "happy-merge", { "clusters/prod/app.yaml": "replicas: 16\n" });

    // main moves on under the PR (another approved change merged).
    const other = await h.openPull(alice, "happy-other", { "clusters/dev/app.yaml": "replicas: 2\n" });
    await h.review(olivia, other.number, "APPROVE");
    expect((await h.check(other.headSha))?.conclusion).toBe("success");
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
      owner: ORG,
      repo: REPO,
      pull_number: other.number,
      merge_method: "squash",
    });
    await h.settle();

    // Alice brings her branch up to date with a merge commit she signs herself.
    const env = {
      GIT_AUTHOR_NAME: alice.login,
      GIT_AUTHOR_EMAIL: alice.email,
      GIT_COMMITTER_NAME: alice.login,
      GIT_COMMITTER_EMAIL: alice.email,
    };
    expect((await h.t.git(pr.dir, ["fetch", "-q", "origin"], env)).code).toBe(0);
    const merged = await h.t.git(
      pr.dir,
      [
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${alice.signingKey}`,
        "merge",
        "-q",
        "-S",
        "--no-ff",
        "--no-edit",
        "origin/main",
      ],
      env,
    );
    expect(merged.code, merged.stderr).toBe(0);
    const head = (await h.t.git(pr.dir, ["rev-parse", "HEAD"])).stdout.trim();
    expect((await h.t.push(pr.dir, "HEAD:refs/heads/happy-merge")).code).toBe(0);
    await h.settle();

    const before = await h.check(head);
    expect(before?.conclusion).toBe("failure");
    expect(fixes(before)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    await h.review(bob, pr.number, "APPROVE");
    const after = await h.check(head);
    expect(after?.conclusion).toBe("success");
    expect(after?.summary).toContain(`Every rule passed for head <code>${short(head)}</code>.`);
    const decision = decisionOf(after);
    expect(decision.signatures.map((s) => [s.commit, s.verified])).toEqual([
      [pr.headSha, true],
      [head, true],
    ]);
    expect(decision.approvedBy).toEqual(["bob"]);

    const { data: merge } = await olivia.octokit.request(
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
      {
        owner: ORG,
        repo: REPO,
        pull_number: pr.number,
        merge_method: "merge",
      },
    );
    await h.settle();
    const { data: ref } = await olivia.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: "heads/approved/production",
    });
    const { data: record } = await olivia.octokit.request(
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
      {
        owner: ORG,
        repo: REPO,
        commit_sha: ref.object.sha,
      },
    );
    expect(record.message).toContain(`Pullgate-Source-Commit: ${merge.sha}`);
    expect(record.message).toContain(`Pullgate-Pull-Request: ${pr.number}`);
    expect(record.message).toContain("Pullgate-Sequence: 2");
    expect(record.message).toContain("Pullgate-Approved-By: bob");
  });
});
