/**
 * `pullgate history`, `pullgate attest` and `pullgate verify-attestation` over real git
 * repositories: record chains written by our builder and signer (landings and a refresh), fetched
 * over file://, then tampered with. History must list every record, mark each failing one, and
 * exit non-zero; attest must sign what it verified and say FAILED for what it did not.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { formatIssuedAt, parseRecordMessage } from "../../src/record/format.js";
import { parseRawCommit } from "../../src/record/raw-commit.js";
import { buildRefreshRecord } from "../../src/record/refresh.js";
import { signRecord } from "../../src/record/sign.js";
import {
  commitFiles,
  git,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "./helpers.js";

async function run(args: string[], cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: process.env, cwd };
  const code = await main(args, io);
  const stdout = out.join("\n");
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { code, stdout, stderr: err.join("\n"), json };
}

interface Entry {
  recordCommit: string;
  verified: boolean;
  sequence: number | null;
  kind: string | null;
  sourceCommit: string | null;
  author: string | null;
  approvedBy: string[] | null;
  failure: { code: string; reason: string } | null;
  claimed: { sequence: number } | null;
}

const ENTRY_KEYS = [
  "approvedBy",
  "author",
  "branch",
  "claimed",
  "failure",
  "issuedAt",
  "kind",
  "policyDigest",
  "pullRequest",
  "recordCommit",
  "sequence",
  "signer",
  "sourceCommit",
  "sourceTree",
  "verified",
];

async function publishRefresh(bare: string, key: TestKey, previous: string): Promise<string> {
  const fields = parseRecordMessage(
    parseRawCommit(git(["cat-file", "commit", previous], { cwd: bare })).message,
  ).fields;
  if (fields === null) throw new Error("previous is not a record");
  const signed = await signRecord(
    buildRefreshRecord({
      previous: { sha: previous, fields },
      issuedAt: formatIssuedAt(new Date()),
      key: key.fingerprint,
      identity: { name: "pullgate[bot]", email: "pullgate@example.com" },
    }),
    key.signingKey,
  );
  const sha = writeCommit(bare, signed.signedRaw);
  git(["update-ref", "refs/heads/approved/production", sha], { cwd: bare });
  return sha;
}

describe("pullgate history / attest / verify-attestation", () => {
  let root: string;
  let key: TestKey;
  let mallory: TestKey;
  let publicKey: string;
  let privateKey: string;
  beforeAll(async () => {
    root = tempDir("history");
    key = await makeKey();
    mallory = await makeKey("mallory", "mallory@example.com");
    publicKey = join(root, "public.asc");
    privateKey = join(root, "private.asc");
    writeFileSync(publicKey, key.publicKey);
    writeFileSync(privateKey, key.privateKey, { mode: 0o600 });
  });
  afterAll(() => removeDir(root));

  const historyArgs = (bare: string, ...more: string[]) => [
    "history",
    "--repo",
    `file://${bare}`,
    "--environment",
    "production",
    "--keys",
    publicKey,
    ...more,
  ];

  it("lists landings and a refresh, newest first, each verified; --json has the documented shape", async () => {
    const { bare, work } = makeRepo(join(root, "good"));
    const s1 = commitFiles(work, { "app.yaml": "v: 1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "app.yaml": "v: 2\n" });
    const r2 = await publishRecord(bare, key, s2, 2, r1, { approvedBy: ["carol"] });
    const r3 = await publishRefresh(bare, key, r2);

    const result = await run(historyArgs(bare, "--json"), root);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const json = result.json as { records: Entry[] } & Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual([
      "complete",
      "environment",
      "head",
      "maxAgeSeconds",
      "records",
      "repository",
      "verified",
    ]);
    expect(json).toMatchObject({
      repository: "acme/deploy",
      environment: "production",
      head: r3,
      complete: true,
      verified: true,
      maxAgeSeconds: 50 * 3600,
    });
    for (const entry of json.records) expect(Object.keys(entry).sort()).toEqual(ENTRY_KEYS);
    expect(json.records.map((r) => [r.sequence, r.kind, r.recordCommit, r.sourceCommit])).toEqual([
      [3, "refresh", r3, s2.commit],
      [2, "landing", r2, s2.commit],
      [1, "landing", r1, s1.commit],
    ]);
    expect(json.records[0]).toMatchObject({
      verified: true,
      author: "Dev <dev@example.com>",
      approvedBy: ["carol"],
      pullRequest: 12,
      branch: "main",
      policyDigest: "sha256:" + "ab".repeat(32),
      signer: key.fingerprint,
      failure: null,
      claimed: null,
    });

    // The table: one aligned row per record, short SHAs, no failure note.
    const table = await run(historyArgs(bare), root);
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe("acme/deploy approved/production: 3 record(s), all verified");
    const header = lines[2] ?? "";
    const rows = lines.slice(3);
    expect(rows).toHaveLength(3);
    for (const column of [
      "STATUS",
      "KIND",
      "ISSUED",
      "SOURCE",
      "PR",
      "AUTHOR",
      "APPROVED BY",
      "POLICY",
      "RECORD",
    ]) {
      const at = header.indexOf(column);
      expect(at).toBeGreaterThan(0);
      // Every row has a cell starting at the column's offset (preceded by the two-space gap).
      for (const row of rows) expect(row.slice(at - 2, at)).toBe("  ");
    }
    expect(rows[0]).toMatch(/^#3 +verified +refresh /);
    expect(rows[0]).toContain(s2.commit.slice(0, 12));
    expect(rows[0]).not.toContain(s2.commit);
    expect(rows[0]?.endsWith(r3.slice(0, 12))).toBe(true);
  });

  it("a tampered record in the middle is shown FAILED with its code, the walk goes on to #1, exit 1", async () => {
    const { bare, work } = makeRepo(join(root, "tampered"));
    const s1 = commitFiles(work, { "app.yaml": "v: 1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "app.yaml": "v: 2\n" });
    const r2 = await publishRecord(bare, key, s2, 2, r1);
    const raw = git(["cat-file", "commit", r2], { cwd: bare });
    const forged = writeCommit(bare, raw.replace("Pullgate-Approved-By: bob", "Pullgate-Approved-By: eve"));
    const s3 = commitFiles(work, { "app.yaml": "v: 3\n" });
    const r3 = await publishRecord(bare, key, s3, 3, forged);

    const result = await run(historyArgs(bare, "--json"), root);
    expect(result.code).toBe(1);
    const json = result.json as { records: Entry[]; complete: boolean; verified: boolean };
    expect(json).toMatchObject({ complete: true, verified: false });
    expect(json.records.map((r) => [r.recordCommit, r.verified])).toEqual([
      [r3, true],
      [forged, false],
      [r1, true],
    ]);
    const bad = json.records[1];
    // Nothing unauthenticated in the authenticated keys; what it claims is kept apart.
    expect(bad).toMatchObject({
      sequence: null,
      kind: null,
      sourceCommit: null,
      approvedBy: null,
      author: null,
    });
    expect(bad?.failure?.code).toBe("SIGNATURE_INVALID");
    expect(bad?.claimed).toMatchObject({ sequence: 2, approvedBy: ["alice", "eve"] });
    expect(result.stderr).toContain(`FAILED SIGNATURE_INVALID ${forged}`);

    const table = await run(historyArgs(bare), root);
    expect(table.code).toBe(1);
    expect(table.stdout).toContain("3 record(s), 1 FAILED");
    expect(table.stdout).toMatch(/\n\(#2\) +FAILED SIGNATURE_INVALID +- /);
  });

  it("a head forged with another key, and a stale head beyond --max-age, fail; old records are not judged by age", async () => {
    const { bare, work } = makeRepo(join(root, "forged"));
    const s1 = commitFiles(work, { "app.yaml": "v: 1\n" });
    const old = formatIssuedAt(new Date(Date.now() - 10 * 86_400_000));
    const r1 = await publishRecord(bare, key, s1, 1, null, { issuedAt: old });
    const s2 = commitFiles(work, { "app.yaml": "v: 2\n" });
    const r2 = await publishRecord(bare, mallory, s2, 2, r1);

    const forged = await run(historyArgs(bare, "--json"), root);
    expect(forged.code).toBe(1);
    const records = (forged.json as { records: Entry[] }).records;
    expect(records.map((r) => [r.recordCommit, r.failure?.code ?? "ok"])).toEqual([
      [r2, "UNKNOWN_KEY"],
      [r1, "ok"],
    ]);

    // With only the old record on the ref, it is the head: --max-age applies to it, as in `verify`.
    git(["update-ref", "refs/heads/approved/production", r1], { cwd: bare });
    const stale = await run(historyArgs(bare, "--json"), root);
    expect(stale.code).toBe(1);
    expect((stale.json as { records: Entry[] }).records[0]?.failure?.code).toBe("EXPIRED");
    const audit = await run(historyArgs(bare, "--json", "--max-age", "none"), root);
    expect(audit.code).toBe(0);
    expect(audit.stderr).toMatch(/--max-age none/);
  });

  it("a head that is not a record at all: listed FAILED, the walk stops there, chain incomplete", async () => {
    const { bare, work } = makeRepo(join(root, "junk"));
    const s1 = commitFiles(work, { "app.yaml": "v: 1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const junk = git(["commit-tree", s1.tree, "-p", r1, "-p", s1.commit, "-m", "not a record"], {
      cwd: bare,
    }).trim();
    git(["update-ref", "refs/heads/approved/production", junk], { cwd: bare });
    const result = await run(historyArgs(bare, "--json"), root);
    expect(result.code).toBe(1);
    expect(result.json).toMatchObject({ complete: false, verified: false });
    expect((result.json as { records: Entry[] }).records).toHaveLength(1);
    expect(result.stderr).toMatch(/could not be followed to record #1/);
  });

  it("an unreachable repository is an I/O error (exit 2), not an empty history", async () => {
    const result = await run(historyArgs(join(root, "nowhere.git"), "--json"), root);
    expect(result.code).toBe(2);
    expect(result.json).toMatchObject({ verified: false, code: "FETCH_FAILED" });
  });

  describe("attest and verify-attestation", () => {
    let bare: string;
    let s1: { commit: string; tree: string };
    let s2: { commit: string; tree: string };
    let r2: string;
    let forged: string;
    beforeAll(async () => {
      const repo = makeRepo(join(root, "attest"));
      bare = repo.bare;
      s1 = commitFiles(repo.work, { "app.yaml": "v: 1\n" });
      const r1 = await publishRecord(bare, key, s1, 1, null);
      s2 = commitFiles(repo.work, { "app.yaml": "v: 2\n" });
      r2 = await publishRecord(bare, key, s2, 2, r1);
      const raw = git(["cat-file", "commit", r2], { cwd: bare });
      forged = writeCommit(bare, raw.replace("Pullgate-Pull-Request: 12", "Pullgate-Pull-Request: 666"));
      git(["update-ref", "refs/heads/attest-forged", forged], { cwd: bare });
    });
    const attestArgs = (...more: string[]) => [
      "attest",
      "--repo",
      `file://${bare}`,
      "--environment",
      "production",
      "--key",
      privateKey,
      ...more,
    ];
    const verifyArgs = (file: string, ...more: string[]) => [
      "verify-attestation",
      "--keys",
      publicKey,
      ...more,
      file,
    ];
    const statementOf = (file: string) => {
      const envelope = JSON.parse(readFileSync(file, "utf8")) as { payload: string };
      return JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as {
        subject: { digest: Record<string, string> }[];
        predicate: Record<string, unknown>;
      };
    };

    it("attests the head: a PASSED VSA for its source commit that verify-attestation accepts", async () => {
      const out = join(root, "head.intoto.json");
      const made = await run(attestArgs("--out", out, "--json"), root);
      expect(made.stderr).toBe("");
      expect(made.code).toBe(0);
      expect(made.json).toMatchObject({
        verificationResult: "PASSED",
        sequence: 2,
        sourceCommit: s2.commit,
        recordCommit: r2,
      });
      const statement = statementOf(out);
      expect(statement.subject.map((s) => s.digest)).toEqual([
        { gitCommit: s2.commit },
        { gitTree: s2.tree },
      ]);
      expect(statement.predicate).toMatchObject({
        verificationResult: "PASSED",
        verifiedLevels: ["SLSA_SOURCE_LEVEL_1", "ORG_SOURCE_PULLGATE_APPROVED"],
        resourceUri: "git+https://github.com/acme/deploy@refs/heads/main",
        policy: { digest: { sha256: "ab".repeat(32) } },
        inputAttestations: [{ digest: { gitCommit: r2 } }],
        verifier: { version: { pullgate: "0.1.0" } },
      });

      const checked = await run(verifyArgs(out, "--commit", s2.commit, "--json"), root);
      expect(checked.code).toBe(0);
      expect(checked.json).toMatchObject({
        verified: true,
        signer: key.fingerprint,
        verificationResult: "PASSED",
      });
      // The attestation is about s2, not about any other commit.
      const other = await run(verifyArgs(out, "--commit", s1.commit), root);
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/not .*[0-9a-f]{40}/);
    });

    it("--sequence and --commit pick older records; stdout carries the envelope without --out", async () => {
      const bySequence = await run(attestArgs("--sequence", "1"), root);
      expect(bySequence.code).toBe(0);
      const envelope = JSON.parse(bySequence.stdout) as { payloadType: string; payload: string };
      expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
      const file = join(root, "seq1.json");
      writeFileSync(file, bySequence.stdout);
      expect(statementOf(file).subject[0]?.digest).toEqual({ gitCommit: s1.commit });

      const byCommit = await run(
        attestArgs("--commit", s1.commit, "--json", "--out", join(root, "c1.json")),
        root,
      );
      expect(byCommit.json).toMatchObject({ sequence: 1, sourceCommit: s1.commit });
      const missing = await run(attestArgs("--sequence", "9"), root);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no record #9/);
      expect((await run(attestArgs("--sequence", "1", "--commit", s1.commit), root)).code).toBe(2);
    });

    it("a tampered record gets a FAILED attestation (no level claimed) and exit 1; verify-attestation exits 1", async () => {
      git(["update-ref", "refs/heads/approved/production", forged], { cwd: bare });
      try {
        const out = join(root, "forged.json");
        const made = await run(attestArgs("--out", out, "--json"), root);
        expect(made.code).toBe(1);
        expect(made.json).toMatchObject({ verificationResult: "FAILED", verifiedLevels: ["FAILED"] });
        expect(made.stderr).toMatch(/SIGNATURE_INVALID/);
        const checked = await run(verifyArgs(out, "--json"), root);
        expect(checked.code).toBe(1);
        expect(checked.json).toMatchObject({ verified: false, verificationResult: "FAILED" });
      } finally {
        git(["update-ref", "refs/heads/approved/production", r2], { cwd: bare });
      }
    });

    it("--commit and --sequence prefer the verified record over a forged one claiming the same", async () => {
      const fake = await publishRecord(bare, mallory, s2, 3, r2);
      try {
        const byCommit = await run(
          attestArgs("--commit", s2.commit, "--json", "--out", join(root, "pref.json")),
          root,
        );
        expect(byCommit.code).toBe(0);
        expect(byCommit.json).toMatchObject({ verificationResult: "PASSED", sequence: 2, recordCommit: r2 });
        const head = await run(attestArgs("--json", "--out", join(root, "pref-head.json")), root);
        expect(head.code).toBe(1);
        expect(head.json).toMatchObject({ verificationResult: "FAILED", recordCommit: fake });
      } finally {
        git(["update-ref", "refs/heads/approved/production", r2], { cwd: bare });
      }
    });

    it("verify-attestation refuses an edited attestation file and the wrong key", async () => {
      const out = join(root, "edit.json");
      expect((await run(attestArgs("--out", out), root)).code).toBe(0);
      const envelope = JSON.parse(readFileSync(out, "utf8")) as { payload: string; payloadType: string };
      const statement = statementOf(out);
      statement.subject[0] = { digest: { gitCommit: s1.commit } };
      const edited = join(root, "edited.json");
      writeFileSync(
        edited,
        JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString("base64") }),
      );
      const refused = await run(verifyArgs(edited, "--json"), root);
      expect(refused.code).toBe(1);
      expect(refused.json).toMatchObject({ verified: false });
      expect(refused.stderr).toMatch(/does not verify/);

      const malloryKeys = join(root, "mallory.asc");
      writeFileSync(malloryKeys, mallory.publicKey);
      const wrongKey = await run(["verify-attestation", "--keys", malloryKeys, out], root);
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toMatch(/not a pinned key/);
    });
  });
});
