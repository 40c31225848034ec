/**
 * End to end, `pullgate history` and `pullgate attest` over records the real app published through
 * the sandbox (two approved PRs merged by different methods), fetched over git smart HTTP as an
 * agent would, with the attestation checked against the published schemas and by
 * `pullgate verify-attestation`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { cli, mergePull, openApprovedPull, readRecords, scratch } from "../helpers/records.js";
import { statementSchemaErrors } from "../record/attest-schemas.js";

describe("e2e: history and attest over the app's records", () => {
  let h: AppHarness;
  let work: ReturnType<typeof scratch>;
  let remote: string;
  let clone: string;
  const landed: { pr: number; source: string }[] = [];

  beforeAll(async () => {
    h = await startAppHarness();
    work = scratch("history", h.recordPublicKey);
    remote = h.t.remoteUrl(ORG, REPO, h.people.carol.token);
    clone = await h.clone(h.people.olivia);
    const { alice, bob, olivia } = h.people;
    for (const [i, method] of (["merge", "squash"] as const).entries()) {
      const pr = await openApprovedPull(h, alice, bob, `history-${method}`, [
        { "clusters/prod/app.yaml": `replicas: ${i + 11}\n` },
      ]);
      landed.push({ pr: pr.number, source: await mergePull(h, olivia, pr.number, method) });
    }
  });
  afterAll(async () => {
    work?.close();
    await h?.close();
  });

  const target = () => ["--repo", remote, "--environment", "production", "--repository", `${ORG}/${REPO}`];

  it("history lists both landings, newest first, verified as the agent verifies them", async () => {
    const result = await cli(["history", ...target(), "--keys", work.keys, "--json"], work.dir);
    expect(result.stderr, result.stderr).toBe("");
    expect(result.code).toBe(0);
    const records = await readRecords(h, clone);
    expect(result.json).toMatchObject({ verified: true, complete: true, head: records[0]?.sha });
    const entries = (result.json as { records: Record<string, unknown>[] }).records;
    expect(entries.map((e) => [e.sequence, e.kind, e.pullRequest, e.sourceCommit, e.recordCommit])).toEqual([
      [2, "landing", landed[1]?.pr, landed[1]?.source, records[0]?.sha],
      [1, "landing", landed[0]?.pr, landed[0]?.source, records[1]?.sha],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ verified: true, approvedBy: ["bob"], branch: "main", failure: null });
      expect(entry.author).toMatch(/^.+ <.+>$/);
      expect(entry.policyDigest).toBe(records[0]?.trailers["Pullgate-Policy-Digest"]?.[0]);
    }
  });

  it("attest signs a PASSED summary of the newest record with the app's key; it matches the schemas and verifies", async () => {
    const keyFile = join(work.dir, "record-private.asc");
    writeFileSync(keyFile, h.recordPrivateKey, { mode: 0o600 });
    const out = join(work.dir, "production.intoto.json");
    const made = await cli(["attest", ...target(), "--key", keyFile, "--out", out, "--json"], work.dir);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({
      verificationResult: "PASSED",
      sequence: 2,
      sourceCommit: landed[1]?.source,
    });

    const envelope = JSON.parse(readFileSync(out, "utf8")) as { payload: string };
    const statement: unknown = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));
    expect(statementSchemaErrors(statement)).toEqual([]);
    expect(statement).toMatchObject({
      subject: [{ digest: { gitCommit: landed[1]?.source } }, { digest: {} }],
      predicate: { resourceUri: `git+https://github.com/${ORG}/${REPO}@refs/heads/main` },
    });

    const checked = await cli(
      ["verify-attestation", "--keys", work.keys, "--commit", landed[1]?.source ?? "", "--json", out],
      work.dir,
    );
    expect(checked.code).toBe(0);
    expect(checked.json).toMatchObject({ verified: true, verificationResult: "PASSED" });
  });
});
