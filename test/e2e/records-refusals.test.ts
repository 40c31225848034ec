/**
 * End to end, docs/architecture.md "What an agent refuses" (invariant 7), against records the app
 * really published on the sandbox and then attacked by an org admin with write access to
 * approved/production (the ref is a branch, so whoever may push may move it): a forged record
 * signed by another key, a tampered trailer, a replayed older record, a record read as another
 * environment or repository, a stale record past --max-age. `pullgate verify` refuses each with its
 * code; the agent keeps what runs.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  formatIssuedAt,
  generateRecordKey,
  loadSigningKey,
  parseIssuedAt,
  signRecord,
} from "../../src/record/index.js";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import {
  cli,
  git,
  mergePull,
  openApprovedPull,
  readRecords,
  scratch,
  spawnCli,
  type RecordView,
} from "../helpers/records.js";

describe("e2e: agents refuse forged, tampered, replayed, misplaced and stale records", () => {
  let h: AppHarness;
  let work: ReturnType<typeof scratch>;
  let clone: string;
  let records: RecordView[]; // oldest first
  let remote: string;

  const verify = (state: string | null, extra: string[] = [], repo = remote) =>
    cli(
      [
        "verify",
        "--repo",
        repo,
        "--environment",
        "production",
        "--keys",
        work.keys,
        "--repository",
        `${ORG}/${REPO}`,
        ...(state === null ? [] : ["--state", state]),
        "--json",
        ...extra,
      ],
      work.dir,
    );
  /** A copy of the state accepted at record #2 (each attack starts from the same memory). */
  const stateAtTwo = (name: string) => {
    const file = join(work.dir, `${name}.json`);
    copyFileSync(join(work.dir, "state-2.json"), file);
    return file;
  };
  /** Moves approved/<env> to `sha` as the org admin (a forced push, as an attacker would). */
  const moveRecordRef = async (sha: string, environment = "production") => {
    await git(h, clone, [
      "push",
      "--quiet",
      "--force",
      "origin",
      `${sha}:refs/heads/approved/${environment}`,
    ]);
    await h.settle();
  };
  /** Writes a raw commit object into the admin's clone (ready to push). */
  const hashObject = (raw: string) =>
    execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
      cwd: clone,
      input: raw,
      encoding: "utf8",
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    }).trim();

  beforeAll(async () => {
    h = await startAppHarness();
    work = scratch("refusals", h.recordPublicKey);
    remote = h.t.remoteUrl(ORG, REPO, h.people.carol.token);
    const { alice, bob, olivia } = h.people;
    for (const [i, method] of (["squash", "merge"] as const).entries()) {
      const pr = await openApprovedPull(h, alice, bob, `bump-${i}`, [
        { "clusters/prod/app.yaml": `replicas: ${i + 3}\n` },
      ]);
      await mergePull(h, olivia, pr.number, method);
    }
    clone = await h.clone(olivia);
    records = (await readRecords(h, clone)).reverse();
    expect(records.map((r) => r.trailers["Pullgate-Sequence"]?.[0])).toEqual(["1", "2"]);
    const first = await verify(join(work.dir, "state-2.json"));
    expect(first.json).toMatchObject({ verified: true, sequence: 2 });
  });
  afterAll(async () => {
    work?.close();
    await h?.close();
  });

  it("refuses a record signed by another key (UNKNOWN_KEY); the agent keeps what runs", async () => {
    const [, second] = records;
    if (second === undefined) throw new Error("no record #2");
    const main = (await git(h, clone, ["rev-parse", "origin/main"])).trim();
    const tree = (await git(h, clone, ["rev-parse", "origin/main^{tree}"])).trim();
    const forger = await generateRecordKey({
      name: "pullgate",
      email: "pullgate[bot]@users.noreply.github.com",
    });
    const signed = await signRecord(
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
        previousRecord: second.sha,
        identity: { name: "pullgate[bot]", email: "pullgate[bot]@users.noreply.github.com" },
      },
      await loadSigningKey(forger.privateKey),
    );
    const sha = hashObject(signed.signedRaw);
    expect(sha).toBe(signed.sha);
    // A descendant of record #2: an ordinary (unforced) push is enough to place it.
    await git(h, clone, ["push", "--quiet", "origin", `${sha}:refs/heads/approved/production`]);
    await h.settle();

    const state = stateAtTwo("forged");
    const refused = await verify(state);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "UNKNOWN_KEY" });
    expect(JSON.parse(readFileSync(state, "utf8"))).toMatchObject({ sequence: 2, recordCommit: second.sha });

    // The spawned agent refuses it too and leaves its state alone.
    const agentState = stateAtTwo("forged-agent");
    const agent = await spawnCli(
      [
        "agent",
        "--once",
        "--json",
        "--repo",
        remote,
        "--environment",
        "production",
        "--keys",
        work.keys,
        "--repository",
        `${ORG}/${REPO}`,
        "--state",
        agentState,
        "--workdir",
        join(work.dir, "deploy"),
        "--exec",
        "echo deployed >> ../exec.log",
      ],
      work.dir,
    );
    expect(agent.code).toBe(1);
    expect(agent.json).toMatchObject({ verified: false, code: "UNKNOWN_KEY" });
    expect(agent.stderr).toContain("REFUSED UNKNOWN_KEY");
    expect(JSON.parse(readFileSync(agentState, "utf8"))).toMatchObject({ sequence: 2 });
    await moveRecordRef(second.sha);
  });

  it("refuses a record whose trailer was edited after signing (SIGNATURE_INVALID)", async () => {
    const [, second] = records;
    if (second === undefined) throw new Error("no record #2");
    const raw = await git(h, clone, ["cat-file", "commit", second.sha]);
    expect(raw).toContain("Pullgate-Approved-By: bob\n");
    const tampered = hashObject(
      raw.replace("Pullgate-Approved-By: bob\n", "Pullgate-Approved-By: mallory\n"),
    );
    await moveRecordRef(tampered);
    const refused = await verify(null);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "SIGNATURE_INVALID" });
    await moveRecordRef(second.sha);
  });

  it("refuses a replayed older record once #2 was accepted (SEQUENCE_NOT_INCREASING)", async () => {
    const [first, second] = records;
    if (first === undefined || second === undefined) throw new Error("no records");
    await moveRecordRef(first.sha);
    const state = stateAtTwo("replay");
    const refused = await verify(state);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "SEQUENCE_NOT_INCREASING" });
    // Without memory, record #1 is a genuine record: state is what stops the rollback.
    expect((await verify(null)).json).toMatchObject({ verified: true, sequence: 1 });
    await moveRecordRef(second.sha);
    expect((await verify(state)).json).toMatchObject({ verified: true, sequence: 2 });
  });

  it("refuses a production record served as approved/staging (WRONG_ENVIRONMENT)", async () => {
    const [, second] = records;
    if (second === undefined) throw new Error("no record #2");
    await moveRecordRef(second.sha, "staging");
    const refused = await cli(
      [
        "verify",
        "--repo",
        remote,
        "--environment",
        "staging",
        "--keys",
        work.keys,
        "--repository",
        `${ORG}/${REPO}`,
        "--json",
      ],
      work.dir,
    );
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "WRONG_ENVIRONMENT" });
  });

  it("refuses acme/gitops's record mirrored into another repository (WRONG_REPOSITORY)", async () => {
    const [, second] = records;
    if (second === undefined) throw new Error("no record #2");
    await h.t.createRepo(ORG, "other", { autoInit: false });
    await git(h, clone, [
      "push",
      "--quiet",
      h.t.remoteUrl(ORG, "other", h.people.olivia.token),
      `${second.sha}:refs/heads/approved/production`,
    ]);
    await h.settle();
    const refused = await cli(
      [
        "verify",
        "--repo",
        h.t.remoteUrl(ORG, "other", h.people.olivia.token),
        "--environment",
        "production",
        "--keys",
        work.keys,
        "--json",
      ],
      work.dir,
    );
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "WRONG_REPOSITORY" });
    expect(refused.stderr).toContain("acme/gitops");
  });

  it("refuses a record older than --max-age (EXPIRED)", async () => {
    const [, second] = records;
    const issued = parseIssuedAt(second?.trailers["Pullgate-Issued-At"]?.[0] ?? "");
    if (issued === null) throw new Error("no issue time");
    // Wait until record #2 is surely more than 1s old (issue times have whole seconds).
    while (Date.now() < issued + 2_500) await new Promise((r) => setTimeout(r, 100));
    const refused = await verify(stateAtTwo("stale"), ["--max-age", "1s"]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ verified: false, code: "EXPIRED" });
    expect((await verify(stateAtTwo("fresh"), ["--max-age", "1h"])).json).toMatchObject({
      verified: true,
      sequence: 2,
    });
  });
});
