/**
 * Issue 12, finding 2, end to end: "the signer is not a person the gate knows about". Through
 * HMAC-signed webhooks into the real Probot server against the sandbox, with real `git commit -S`
 * SSH signatures. bob's trusted key signs a commit authored as alice; bob, the only member of
 * @acme/sre (owner of clusters/prod/), approves. Before the fix every rule passed and the merge
 * published a record. Now the signer must be the commit's author or committer (default
 * signatures.signer_identity) and a signer's approval is a self-approval
 * (docs/policy.md, "Who signed: keys are people").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  basePolicy,
  ORG,
  REPO,
  startAppHarness,
  type AppHarness,
  type Person,
} from "../helpers/app-harness.js";
import { decisionOf, fixes, readable } from "../helpers/check-text.js";

const RECORD_BRANCH = "approved/production";
const SIGNER_LOGINS = ".github/pullgate/signers";

const shortSha = (sha: string) => sha.slice(0, 7);

/** One commit authored by `author`, committed by `committer`, signed with `signer`'s key, in a PR opened by `author`. */
async function openPull(
  h: AppHarness,
  branch: string,
  files: Record<string, string>,
  people: { author: Person; committer: Person; signer: Person },
): Promise<{ number: number; headSha: string }> {
  const { author, committer, signer } = people;
  const dir = await h.clone(author);
  expect((await h.t.git(dir, ["checkout", "-q", "-b", branch, "origin/main"])).code).toBe(0);
  // world.commit writes the files and commits as one person; amend to the identities under test.
  await h.commit(dir, author, files, `change on ${branch}`, null);
  const env = {
    GIT_AUTHOR_NAME: author.login,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.login,
    GIT_COMMITTER_EMAIL: committer.email,
  };
  const amended = await h.t.git(
    dir,
    [
      "-c",
      "gpg.format=ssh",
      "-c",
      `user.signingkey=${signer.signingKey}`,
      "commit",
      "--quiet",
      "--amend",
      "--no-edit",
      "--reset-author",
      "-S",
    ],
    env,
  );
  expect(amended.code, amended.stderr).toBe(0);
  const headSha = (await h.t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
  const shown = await h.t.git(dir, ["show", "-s", "--format=%ae %ce", "HEAD"]);
  expect(shown.stdout.trim()).toBe(`${author.email} ${committer.email}`);
  expect((await h.t.push(dir, `HEAD:refs/heads/${branch}`)).code).toBe(0);
  const { data } = await author.octokit.request("POST /repos/{owner}/{repo}/pulls", {
    owner: ORG,
    repo: REPO,
    title: `Change ${branch}`,
    head: branch,
    base: "main",
  });
  await h.settle();
  return { number: data.number, headSha };
}

describe("e2e: signers are people", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("the attack: alice authors and commits, bob's trusted key signs, bob approves: failure, and the merge publishes no record", async () => {
    const { alice, bob } = h.people;
    const pr = await openPull(
      h,
      "signer-attack",
      { "clusters/prod/app.yaml": "replicas: 21\n" },
      { author: alice, committer: alice, signer: bob },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.status).toBe("completed");
    expect(check?.conclusion).toBe("failure");
    const text = readable(check);
    // Who signed: the key (principal and fingerprint) and the person it maps to. Nothing in this
    // PR links bob's email to an account (no signer-logins file here): the owner is unknown.
    expect(text).toMatch(
      new RegExp(
        `commit <code>${shortSha(pr.headSha)}</code>: the key's owner \\(an unknown GitHub account\\) is neither the author \\(alice@example\\.test\\) nor the committer \\(alice@example\\.test\\) \\(signer bob@example\\.test \\(ED25519 SHA256:[A-Za-z0-9+/]{43}\\), key of an unknown GitHub account\\)`,
      ),
    );
    expect(fixes(check)).toContain(
      `Commit ${shortSha(pr.headSha)} must be signed by its author or committer: the author re-signs it with their own key (git commit --amend --no-edit -S), or whoever signs it commits it as themselves (git commit --amend --no-edit --reset-author -S); signatures.signer_identity: any relaxes this.`,
    );
    const decision = decisionOf(check);
    expect(decision.rules).toContainEqual({ id: "signatures", status: "fail" });

    // Merged anyway (protection is off in this world): the publisher trusts only a passing check.
    const recordBefore = await h.world.branchHead(RECORD_BRANCH);
    await h.world.merge(h.people.olivia, pr.number);
    await h.settle();
    expect(await h.world.branchHead(RECORD_BRANCH)).toBe(recordBefore);
  });

  it("bob commits alice's change with his key (he is its committer): the signature holds, his approval does not", async () => {
    const { alice, bob } = h.people;
    const pr = await openPull(
      h,
      "signer-committer",
      { "clusters/prod/app.yaml": "replicas: 22\n" },
      { author: alice, committer: bob, signer: bob },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const decision = decisionOf(check);
    expect(decision.rules).toContainEqual({ id: "signatures", status: "pass" });
    expect(decision.approvedBy).toEqual([]);
    const text = readable(check);
    expect(text).toMatch(
      new RegExp(
        `${shortSha(pr.headSha)} signed by bob@example\\.test \\(ED25519 SHA256:\\S+\\), key of @bob`,
      ),
    );
    expect(text).toContain(
      `@bob's approval does not count: self-approval: signed commit ${shortSha(pr.headSha)} of this pull request`,
    );
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
    expect(fixes(check)).toContain(
      "Get 1 more approval from reviewers with write access other than the author.",
    );
  });

  it("compliant: alice signs her own commit, bob approves: success, and the check says who signed", async () => {
    const { alice, bob } = h.people;
    const pr = await openPull(
      h,
      "signer-compliant",
      { "clusters/prod/app.yaml": "replicas: 23\n" },
      { author: alice, committer: alice, signer: alice },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("success");
    expect(readable(check)).toMatch(
      new RegExp(
        `${shortSha(pr.headSha)} signed by alice@example\\.test \\(ED25519 SHA256:\\S+\\), key of @alice`,
      ),
    );
    expect(decisionOf(check).approvedBy).toEqual(["bob"]);

    const recordBefore = await h.world.branchHead(RECORD_BRANCH);
    await h.world.merge(h.people.olivia, pr.number);
    await h.settle();
    const recordAfter = await h.world.branchHead(RECORD_BRANCH);
    expect(recordAfter).not.toBeNull();
    expect(recordAfter).not.toBe(recordBefore);
  });
});

describe("e2e: signers are people, with a signer-logins file and signer_identity: any", () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({
      // Appended inside the `main` branch entry: any trusted key may sign, keys are linked to
      // logins by the file (docs/policy.md, "Who signed: keys are people").
      policy: basePolicy(
        ["    signatures:", "      signer_identity: any", `      signer_logins: "${SIGNER_LOGINS}"`].join(
          "\n",
        ),
      ),
      seedFiles: () => ({
        [SIGNER_LOGINS]: [
          "# login  identities (emails, OpenPGP or SSH key fingerprints)",
          ...["alice", "bob", "carol", "mallory", "olivia"].map((l) => `@${l}  ${l}@example.test`),
          "",
        ].join("\n"),
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("bob's key signs alice's commit: the signature is allowed, bob's approval is a self-approval", async () => {
    const { alice, bob } = h.people;
    const pr = await openPull(
      h,
      "signer-any",
      { "clusters/prod/app.yaml": "replicas: 31\n" },
      { author: alice, committer: alice, signer: bob },
    );
    await h.review(bob, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    const decision = decisionOf(check);
    expect(decision.rules).toContainEqual({ id: "signatures", status: "pass" });
    expect(decision.approvedBy).toEqual([]);
    const text = readable(check);
    // The file links bob's email to @bob: the check names the key and its person.
    expect(text).toMatch(
      new RegExp(
        `${shortSha(pr.headSha)} signed by bob@example\\.test \\(ED25519 SHA256:\\S+\\), key of @bob`,
      ),
    );
    expect(text).toContain(
      `@bob's approval does not count: self-approval: signed commit ${shortSha(pr.headSha)} of this pull request`,
    );
    expect(fixes(check)).toContain("Get an approval from one of @acme/sre for clusters/prod/app.yaml.");
  });
});
