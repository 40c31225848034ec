/**
 * End to end, issue 12 finding 1 (publisher side): anyone who can push `approved/production` must
 * not silently stop publication. Through the real server and the sandbox:
 *
 * - every push to the record ref that is not the app's own compare-and-swap (a forged record, a
 *   force-push back to an older genuine record, a deletion) raises the bypass alert naming who
 *   pushed what; the app's own records raise nothing;
 * - the next approved landing restores the chain on the newest genuine record the app's record log
 *   proves and publishes on top of it, and an agent with state accepts that record;
 * - alerts are commented once per event (a duplicated delivery adds nothing), on an issue the app
 *   itself created (an issue a person labelled `pullgate-alert` is never reused).
 *
 * The sandbox repository has no protection on approved/*, so org members can push it.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatIssuedAt } from "../../src/record/format.js";
import { generateRecordKey, loadSigningKey } from "../../src/record/keys.js";
import { signRecord } from "../../src/record/sign.js";
import { ORG, REPO, startAppHarness, type AppHarness, type Person } from "../helpers/app-harness.js";
import {
  cli,
  git,
  mergePull,
  openApprovedPull,
  readRecords,
  recordHead,
  scratch,
} from "../helpers/records.js";

const RECORD_LOG = "pullgate/record";

describe("e2e: the record ref is watched, and a tampered one is restored", () => {
  let h: AppHarness;
  let work: ReturnType<typeof scratch>;
  let remote: string;
  let clone: string;
  let mallorysClone: string;
  let bump = 10;

  const verify = (state: string) =>
    cli(
      [
        "verify",
        "--repo",
        remote,
        "--environment",
        "production",
        "--keys",
        work.keys,
        "--repository",
        `${ORG}/${REPO}`,
        "--state",
        state,
        "--json",
      ],
      work.dir,
    );
  const api = () => h.people.olivia.octokit;
  const alertIssues = async () =>
    (
      await api().request("GET /repos/{owner}/{repo}/issues", {
        owner: ORG,
        repo: REPO,
        labels: "pullgate-alert",
        state: "all",
      })
    ).data.filter((i) => !i.pull_request);
  /** Everything the app said in its alert issue: body, then its comments. */
  const alertTexts = async (): Promise<string[]> => {
    const own = (await alertIssues()).filter((i) => i.user?.login === "pullgate[bot]");
    expect(own.length).toBeLessThanOrEqual(1);
    const issue = own[0];
    if (issue === undefined) return [];
    const { data: comments } = await api().request(
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      {
        owner: ORG,
        repo: REPO,
        issue_number: issue.number,
      },
    );
    return [issue.body ?? "", ...comments.map((c) => c.body ?? "")];
  };
  /** An approved PR by alice, approved by bob, squash-merged by olivia; returns the landed commit. */
  const land = async (): Promise<string> => {
    const { alice, bob, olivia } = h.people;
    bump += 1;
    const pr = await openApprovedPull(h, alice, bob, `tamper-${bump}`, [
      { "clusters/prod/app.yaml": `replicas: ${bump}\n` },
    ]);
    return mergePull(h, olivia, pr.number, "squash");
  };
  const recordCommit = async (sha: string) =>
    (
      await api().request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", {
        owner: ORG,
        repo: REPO,
        commit_sha: sha,
      })
    ).data;
  const sequenceOf = async (sha: string) =>
    /Pullgate-Sequence: (\d+)/.exec((await recordCommit(sha)).message)?.[1];
  /** git push from `dir` as its owner; returns when every webhook it caused was handled. */
  const push = async (dir: string, refspec: string, force = false) => {
    const pushed = await h.t.push(dir, refspec, { force });
    expect(pushed.code, pushed.stderr).toBe(0);
    await h.settle();
  };

  beforeAll(async () => {
    h = await startAppHarness();
    work = scratch("tamper", h.recordPublicKey);
    remote = h.t.remoteUrl(ORG, REPO, h.people.carol.token);
    await land();
    await land();
    clone = await h.clone(h.people.olivia);
    mallorysClone = await h.clone(h.people.mallory);
    const records = await readRecords(h, clone);
    expect(records.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(["2", "1"]);
    expect((await verify(join(work.dir, "state.json"))).json).toMatchObject({ verified: true, sequence: 2 });
  });
  afterAll(async () => {
    work?.close();
    await h?.close();
  });

  it("the app's own records raise nothing, and each is logged in a pullgate/record check run on its source commit", async () => {
    expect(await alertIssues()).toEqual([]);
    const head = await recordHead(h);
    const record = await recordCommit(head ?? "");
    const source = record.parents[1]?.sha ?? "";
    const { data } = await api().request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner: ORG,
      repo: REPO,
      ref: source,
      check_name: RECORD_LOG,
    });
    expect(data.check_runs).toEqual([
      expect.objectContaining({
        name: RECORD_LOG,
        status: "completed",
        conclusion: "success",
        external_id: `pullgate-record:v1:production:2:${head}`,
        app: expect.objectContaining({ id: h.t.sandbox.app.id }),
      }),
    ]);
  });

  it("a forged record pushed by mallory is alerted, naming her and the commit; an issue she labelled pullgate-alert is not reused", async () => {
    const { mallory } = h.people;
    // A look-alike alert issue, written by mallory: the app must open its own.
    const { data: decoy } = await mallory.octokit.request("POST /repos/{owner}/{repo}/issues", {
      owner: ORG,
      repo: REPO,
      title: "pullgate: changes reached governed branches without approval",
      body: "<!-- pullgate:bypass-alert -->\nnothing to see here",
      labels: ["pullgate-alert"],
    });
    const genuine = await recordHead(h);
    await git(h, mallorysClone, ["fetch", "-q", "origin"]);
    const main = (await git(h, mallorysClone, ["rev-parse", "origin/main"])).trim();
    const tree = (await git(h, mallorysClone, ["rev-parse", "origin/main^{tree}"])).trim();
    const forger = await generateRecordKey({
      name: "pullgate",
      email: "pullgate[bot]@users.noreply.github.com",
    });
    const forged = await signRecord(
      {
        fields: {
          repository: `${ORG}/${REPO}`,
          environment: "production",
          branch: "main",
          sequence: 3,
          sourceCommit: main,
          sourceTree: tree,
          pullRequest: 99,
          approvedBy: ["bob"],
          policyDigest: `sha256:${"0".repeat(64)}`,
          issuedAt: formatIssuedAt(new Date()),
          key: forger.fingerprint,
        },
        previousRecord: genuine,
        identity: { name: "pullgate[bot]", email: "pullgate[bot]@users.noreply.github.com" },
      },
      await loadSigningKey(forger.privateKey),
    );
    const sha = execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
      cwd: mallorysClone,
      input: forged.signedRaw,
      encoding: "utf8",
    }).trim();
    expect(sha).toBe(forged.sha);
    // A descendant of the genuine head: an ordinary push places it.
    await push(mallorysClone, `${sha}:refs/heads/approved/production`);

    const issues = await alertIssues();
    const own = issues.filter((i) => i.user?.login === "pullgate[bot]");
    expect(own).toHaveLength(1);
    expect(own[0]?.number).not.toBe(decoy.number);
    const said = (await alertTexts()).join("\n");
    expect(said).toContain("@mallory");
    expect(said).toContain(sha);
    expect(said).toContain("not pullgate's record");
    const { data: statuses } = await api().request("GET /repos/{owner}/{repo}/commits/{ref}/statuses", {
      owner: ORG,
      repo: REPO,
      ref: sha,
    });
    expect(statuses).toEqual([expect.objectContaining({ context: "pullgate/record", state: "failure" })]);
    // Nothing was commented on mallory's issue.
    const { data: decoyComments } = await api().request(
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { owner: ORG, repo: REPO, issue_number: decoy.number },
    );
    expect(decoyComments).toEqual([]);
  });

  it("a duplicated delivery adds no second comment: for that record-ref push, and for a direct push to main", async () => {
    const redeliver = async (ref: string, after?: string) => {
      const delivery = [...h.t.sandbox.webhooks.deliveries()].reverse().find((d) => {
        const p = d.payload as { ref?: string; after?: string };
        return d.event === "push" && p.ref === ref && (after === undefined || p.after === after);
      });
      if (delivery === undefined) throw new Error(`no push delivery for ${ref}`);
      // A new delivery id with the same body: what a replay past the id check, or a duplicate, looks like.
      expect(await h.deliver("push", delivery.payload)).toBeLessThan(300);
    };
    const before = await alertTexts();
    await redeliver("refs/heads/approved/production");
    expect(await alertTexts()).toEqual(before);

    // A bypass of main by the org admin is alerted once, however often its push is delivered.
    const { olivia } = h.people;
    await git(h, clone, ["fetch", "-q", "origin", "main"]);
    await git(h, clone, ["checkout", "-q", "-B", "main", "origin/main"]);
    const sha = await h.commit(
      clone,
      olivia,
      { "clusters/prod/app.yaml": "replicas: 99\n" },
      "hotfix straight to main",
    );
    await push(clone, "HEAD:refs/heads/main");
    const once = await alertTexts();
    expect(once).toHaveLength(before.length + 1);
    expect(once.at(-1)).toContain(sha);
    await redeliver("refs/heads/main", sha);
    await redeliver("refs/heads/main", sha);
    expect(await alertTexts()).toEqual(once);
  });

  it("the next approved landing restores the chain on record #2, publishes #3 on top, alerts, and the agent accepts #3", async () => {
    const forged = await recordHead(h);
    const texts = (await alertTexts()).length;
    const landed = await land();
    const head = await recordHead(h);
    expect(head).not.toBe(forged);
    const record = await recordCommit(head ?? "");
    expect(await sequenceOf(head ?? "")).toBe("3");
    expect(record.parents[1]?.sha).toBe(landed);
    expect(await sequenceOf(record.parents[0]?.sha ?? "")).toBe("2");
    const said = await alertTexts();
    // One comment: the restoration. The app's own forced write is not alerted as a push.
    expect(said).toHaveLength(texts + 1);
    expect(said.at(-1)).toContain(`${(forged ?? "").slice(0, 7)}, which is not pullgate's record`);
    expect(said.at(-1)).toContain("restored the chain on record #2");
    expect((await verify(join(work.dir, "state.json"))).json).toMatchObject({ verified: true, sequence: 3 });
  });

  it("a force-push back to record #2 is alerted; the next landing publishes #4 on #3 and the agent at #3 accepts it", async () => {
    const three = await recordHead(h);
    const two = (await recordCommit(three ?? "")).parents[0]?.sha ?? "";
    await git(h, clone, ["fetch", "-q", "origin"]);
    await push(clone, `${two}:refs/heads/approved/production`, true);
    expect(await recordHead(h)).toBe(two);
    const said = (await alertTexts()).at(-1) ?? "";
    expect(said).toContain("@olivia");
    expect(said).toContain("does not build on it");

    await land();
    const four = await recordHead(h);
    expect(await sequenceOf(four ?? "")).toBe("4");
    expect((await recordCommit(four ?? "")).parents[0]?.sha).toBe(three);
    expect((await alertTexts()).at(-1)).toContain("rolled back");
    expect((await verify(join(work.dir, "state.json"))).json).toMatchObject({ verified: true, sequence: 4 });
  });

  it("deleting approved/production is alerted; the next landing recreates it with #5 on #4", async () => {
    const four = await recordHead(h);
    await push(clone, ":refs/heads/approved/production");
    expect(await recordHead(h)).toBeNull();
    const said = (await alertTexts()).at(-1) ?? "";
    expect(said).toContain("Pushed by: @olivia");
    expect(said).toContain(`What: deleted it (it pointed at ${(four ?? "").slice(0, 7)})`);

    await land();
    const five = await recordHead(h);
    expect(await sequenceOf(five ?? "")).toBe("5");
    expect((await recordCommit(five ?? "")).parents[0]?.sha).toBe(four);
    expect((await alertTexts()).at(-1)).toContain("was deleted");
    expect((await verify(join(work.dir, "state.json"))).json).toMatchObject({ verified: true, sequence: 5 });
  });

  it("mallory force-pushes a plain commit over the ref: alerted, and the next landing restores the chain on #5", async () => {
    const person: Person = h.people.mallory;
    await git(h, mallorysClone, ["fetch", "-q", "origin"]);
    await push(mallorysClone, `origin/main:refs/heads/approved/production`, true);
    const said = (await alertTexts()).at(-1) ?? "";
    expect(said).toContain(`@${person.login}`);
    expect(said).toContain("not pullgate's record");
    await land();
    expect(await sequenceOf((await recordHead(h)) ?? "")).toBe("6");
    expect((await verify(join(work.dir, "state.json"))).json).toMatchObject({ verified: true, sequence: 6 });
  });
});
