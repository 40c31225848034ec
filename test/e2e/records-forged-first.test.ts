/**
 * End to end, issue 12 finding 1, the case the record log cannot restore: mallory creates
 * `approved/production` with a forged record before pullgate published any. Creating the ref is
 * alerted (judged by the default branch's policy, not the pushed tree's); the first approved landing
 * finds a head that is not pullgate's and no logged record to restore on, so it publishes nothing and
 * says why (fail closed, not silent). Once an admin deletes the forged ref, the next landing
 * publishes record #1.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatIssuedAt } from "../../src/record/format.js";
import { generateRecordKey, loadSigningKey } from "../../src/record/keys.js";
import { signRecord } from "../../src/record/sign.js";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { git, mergePull, openApprovedPull, recordHead } from "../helpers/records.js";

describe("e2e: a forged first record is alerted and never built on", () => {
  let h: AppHarness;
  let forged: string;
  beforeAll(async () => {
    h = await startAppHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const alertText = async () => {
    const { data: issues } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo: REPO,
      labels: "pullgate-alert",
      state: "open",
      creator: "pullgate[bot]",
    });
    const texts: string[] = [];
    for (const issue of issues) {
      texts.push(issue.body ?? "");
      const { data } = await h.people.olivia.octokit.request(
        "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
        { owner: ORG, repo: REPO, issue_number: issue.number },
      );
      texts.push(...data.map((c) => c.body ?? ""));
    }
    return texts;
  };

  it("mallory creates approved/production with a record signed by her own key: alerted", async () => {
    const dir = await h.clone(h.people.mallory);
    const main = (await git(h, dir, ["rev-parse", "origin/main"])).trim();
    const tree = (await git(h, dir, ["rev-parse", "origin/main^{tree}"])).trim();
    const key = await generateRecordKey({
      name: "pullgate",
      email: "pullgate[bot]@users.noreply.github.com",
    });
    const signed = await signRecord(
      {
        fields: {
          repository: `${ORG}/${REPO}`,
          environment: "production",
          branch: "main",
          sequence: 1,
          sourceCommit: main,
          sourceTree: tree,
          pullRequest: 1,
          approvedBy: ["bob"],
          policyDigest: `sha256:${"0".repeat(64)}`,
          issuedAt: formatIssuedAt(new Date()),
          key: key.fingerprint,
        },
        previousRecord: null,
        identity: { name: "pullgate[bot]", email: "pullgate[bot]@users.noreply.github.com" },
      },
      await loadSigningKey(key.privateKey),
    );
    forged = execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
      cwd: dir,
      input: signed.signedRaw,
      encoding: "utf8",
    }).trim();
    const pushed = await h.t.push(dir, `${forged}:refs/heads/approved/production`);
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
    const said = (await alertText()).join("\n");
    expect(said).toContain("Pushed by: @mallory");
    expect(said).toContain(forged);
  });

  it("the first approved landing publishes nothing on it, and the alert says why", async () => {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, "first-after-forgery", [
      { "clusters/prod/app.yaml": "replicas: 7\n" },
    ]);
    const landed = await mergePull(h, olivia, pr.number, "squash");
    expect(await recordHead(h)).toBe(forged);
    const last = (await alertText()).at(-1) ?? "";
    expect(last).toContain(landed);
    expect(last).toContain(`no record for ${landed.slice(0, 7)}`);
    expect(last).toContain("which is not pullgate's record");
    expect(last).toContain("the record log names no earlier record");
  });

  it("once an admin deletes the forged ref, the next landing publishes record #1", async () => {
    const { alice, bob, olivia } = h.people;
    await olivia.octokit.request("DELETE /repos/{owner}/{repo}/git/refs/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: "heads/approved/production",
    });
    await h.settle();
    const pr = await openApprovedPull(h, alice, bob, "after-cleanup", [
      { "clusters/prod/app.yaml": "replicas: 8\n" },
    ]);
    await mergePull(h, olivia, pr.number, "squash");
    const head = await recordHead(h);
    expect(head).not.toBeNull();
    const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
      owner: ORG,
      repo: REPO,
      commit_sha: head ?? "",
    });
    expect(data.message).toContain("Pullgate-Sequence: 1\n");
  });
});
