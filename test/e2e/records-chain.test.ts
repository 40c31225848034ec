/**
 * End to end: approved pull requests merged through the sandbox with each merge method (merge,
 * squash, rebase) publish a chain of signed records on approved/production (docs/architecture.md,
 * "Record contract"), which `pullgate verify` and `pullgate agent --once` accept over git smart
 * HTTP and GnuPG's `git verify-commit` accepts with only the app's public key
 * (docs/architecture.md, invariant 6).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf, ISSUE_BACKDATE_MS, parseIssuedAt, readPublicKeys } from "../../src/record/index.js";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import {
  cli,
  git,
  gnupgHome,
  mergePull,
  openApprovedPull,
  readRecords,
  recordHead,
  scratch,
  spawnCli,
  type MergeMethod,
  type RecordView,
} from "../helpers/records.js";

describe("e2e: merges publish a verifiable record chain", () => {
  let h: AppHarness;
  let work: ReturnType<typeof scratch>;
  let remote: string;
  let clone: string;
  let fingerprint: string;
  const landed: { method: MergeMethod; pr: number; source: string; headSha: string }[] = [];

  beforeAll(async () => {
    h = await startAppHarness();
    work = scratch("chain", h.recordPublicKey);
    remote = h.t.remoteUrl(ORG, REPO, h.people.carol.token); // read access is all an agent needs
    clone = await h.clone(h.people.olivia);
    const [key] = await readPublicKeys([h.recordPublicKey]);
    if (key === undefined) throw new Error("no record key");
    fingerprint = fingerprintOf(key);
  });
  afterAll(async () => {
    work?.close();
    await h?.close();
  });

  const verifyArgs = (state: string) => [
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
  ];
  const agentArgs = () => [
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
    join(work.dir, "agent-state.json"),
    "--workdir",
    join(work.dir, "deploy"),
    // Appends what it deployed: proves it ran in the verified tree, once per new record.
    "--exec",
    `echo "$PULLGATE_SEQUENCE $PULLGATE_SOURCE_COMMIT $(cat clusters/prod/app.yaml)" >> ${join(work.dir, "exec.log")}`,
  ];
  const execLog = () =>
    existsSync(join(work.dir, "exec.log"))
      ? readFileSync(join(work.dir, "exec.log"), "utf8").trim().split("\n")
      : [];

  async function land(method: MergeMethod, commits: Record<string, string>[]) {
    const { alice, bob, olivia } = h.people;
    const pr = await openApprovedPull(h, alice, bob, `bump-${method}`, commits);
    const source = await mergePull(h, olivia, pr.number, method);
    landed.push({ method, pr: pr.number, source, headSha: pr.headSha });
    return source;
  }

  it("a merge commit publishes record #1; verify (spawned bin) and the agent accept it", async () => {
    expect(await recordHead(h)).toBeNull();
    const source = await land("merge", [{ "clusters/prod/app.yaml": "replicas: 3\n" }]);
    const head = await recordHead(h);
    expect(head).toMatch(/^[0-9a-f]{40}$/);

    const verified = await spawnCli(verifyArgs(join(work.dir, "verify-state.json")), work.dir);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
    await git(h, clone, ["fetch", "-q", "origin", "main"]);
    expect(verified.json).toEqual({
      verified: true,
      sequence: 1,
      sourceCommit: source,
      sourceTree: (await git(h, clone, ["rev-parse", `${source}^{tree}`])).trim(),
      recordCommit: head,
      refuseBreakGlass: false,
      rollbackProtection: true,
      maxAgeSeconds: 50 * 3600,
    });

    const agent = await cli(agentArgs(), work.dir);
    expect(agent.code).toBe(0);
    expect(agent.json).toMatchObject({ verified: true, sequence: 1, deployed: true, changed: true });
    expect(readFileSync(join(work.dir, "deploy", "clusters/prod/app.yaml"), "utf8")).toBe("replicas: 3\n");
    expect(execLog()).toEqual([`1 ${source} replicas: 3`]);
  });

  it("a squash merge publishes record #2 chained on #1", async () => {
    const source = await land("squash", [{ "clusters/prod/app.yaml": "replicas: 4\n" }]);
    const verified = await cli(verifyArgs(join(work.dir, "verify-state.json")), work.dir);
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ verified: true, sequence: 2, sourceCommit: source });
    const agent = await cli(agentArgs(), work.dir);
    expect(agent.json).toMatchObject({ verified: true, sequence: 2, changed: true });
    expect(execLog()).toEqual([`1 ${landed[0]?.source} replicas: 3`, `2 ${source} replicas: 4`]);
  });

  it("a rebase merge of two commits publishes record #3 for the rebased tip", async () => {
    const source = await land("rebase", [
      { "clusters/prod/app.yaml": "replicas: 5\n" },
      { "clusters/prod/extra.yaml": "kind: ConfigMap\n" },
    ]);
    // Rebased commits are new commits (unsigned, committed by the merger), not the PR's head.
    expect(source).not.toBe(landed[2]?.headSha);
    const verified = await cli(verifyArgs(join(work.dir, "verify-state.json")), work.dir);
    expect(verified.json).toMatchObject({ verified: true, sequence: 3, sourceCommit: source });

    const agent = await cli(agentArgs(), work.dir);
    expect(agent.json).toMatchObject({ verified: true, sequence: 3, changed: true });
    expect(readFileSync(join(work.dir, "deploy", "clusters/prod/extra.yaml"), "utf8")).toBe(
      "kind: ConfigMap\n",
    );
    // Nothing new: the agent neither re-runs --exec nor changes the workdir.
    const again = await cli(agentArgs(), work.dir);
    expect(again.json).toMatchObject({ verified: true, sequence: 3, changed: false });
    expect(execLog()).toHaveLength(3);
    const same = await cli(verifyArgs(join(work.dir, "verify-state.json")), work.dir);
    expect(same.json).toMatchObject({ verified: true, sequence: 3 });
  });

  it("the chain follows the record contract exactly: parents, trees, trailers, one record per merge", async () => {
    const records = (await readRecords(h, clone)).reverse();
    expect(records).toHaveLength(3);
    const main = (await git(h, clone, ["rev-parse", "origin/main"])).trim();
    expect(landed.at(-1)?.source).toBe(main);
    const trees = new Map<string, string>();
    for (const { source, headSha } of landed) {
      for (const sha of [source, headSha])
        trees.set(sha, (await git(h, clone, ["rev-parse", `${sha}^{tree}`])).trim());
    }
    // Records are dated ISSUE_BACKDATE_MS before the app's clock, never before the key's creation
    // (docs/architecture.md, "Record contract"): read after publishing, so no race with the clock.
    const [appKey] = await readPublicKeys([h.recordPublicKey]);
    if (appKey === undefined) throw new Error("no app key");
    const latestIssue = Math.max(
      Date.now() - ISSUE_BACKDATE_MS,
      Math.ceil(appKey.getCreationTime().getTime() / 1000) * 1000,
    );
    records.forEach((record: RecordView, i) => {
      const merge = landed[i];
      if (merge === undefined) throw new Error("missing merge");
      const sourceTree = trees.get(merge.source);
      expect(record.parents).toEqual(i === 0 ? [merge.source] : [records[i - 1]?.sha, merge.source]);
      expect(record.tree).toBe(sourceTree);
      // The reviewed tree: the approved head's tree is the tree that landed.
      expect(trees.get(merge.headSha)).toBe(sourceTree);
      expect(record.trailers).toMatchObject({
        "Pullgate-Record": ["1"],
        "Pullgate-Repository": [`${ORG}/${REPO}`],
        "Pullgate-Environment": ["production"],
        "Pullgate-Branch": ["main"],
        "Pullgate-Sequence": [String(i + 1)],
        "Pullgate-Source-Commit": [merge.source],
        "Pullgate-Source-Tree": [sourceTree],
        "Pullgate-Pull-Request": [String(merge.pr)],
        "Pullgate-Approved-By": ["bob"],
        "Pullgate-Key": [fingerprint],
      });
      expect(record.trailers["Pullgate-Policy-Digest"]?.[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(record.trailers["Pullgate-Issued-At"]?.[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(parseIssuedAt(record.trailers["Pullgate-Issued-At"]?.[0] ?? "")).toBeLessThanOrEqual(
        latestIssue,
      );
    });
  });

  it("GnuPG's git verify-commit accepts every record with only the app's public key", async () => {
    const gpg = gnupgHome(h.recordPublicKey);
    try {
      for (const record of await readRecords(h, clone)) {
        const r = await h.t.git(clone, ["verify-commit", "--raw", record.sha], { GNUPGHOME: gpg.home });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`[GNUPG:] VALIDSIG ${fingerprint.toUpperCase()}`);
      }
    } finally {
      gpg.close();
    }
  });
});
