/**
 * Moving from the last accepted record #N to #N+k verifies every record in between (src/record/
 * chain.ts), through fetchAndVerify and a real git cache over real repositories.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAndVerify } from "../../src/agent/fetch-verify.js";
import { GitCache } from "../../src/agent/git.js";
import { RecordVerificationError } from "../../src/record/errors.js";
import { buildRefreshRecord } from "../../src/record/refresh.js";
import { signRecord } from "../../src/record/sign.js";
import { formatIssuedAt, parseRecordMessage } from "../../src/record/format.js";
import { commitSha, parseRawCommit } from "../../src/record/raw-commit.js";
import { buildRecordCommit } from "../../src/record/commit.js";
import {
  commitFiles,
  fieldsFor,
  git,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "./helpers.js";

const identity = { name: "pullgate[bot]", email: "pullgate@example.com" };

describe("verifying every record between the last accepted and the newest", () => {
  let root: string;
  let key: TestKey;
  let attacker: TestKey;
  let n = 0;
  beforeAll(async () => {
    root = tempDir("chain");
    key = await makeKey();
    attacker = await makeKey("mallory", "m@example.com");
  });
  afterAll(() => removeDir(root));

  /** A fresh bare repository and work tree. */
  function fresh() {
    return makeRepo(join(root, `r${++n}`));
  }

  async function verifyFrom(bare: string, last: { sequence: number; recordCommit: string } | null) {
    const cache = new GitCache(join(root, `cache-${++n}`, "cache.git"));
    return fetchAndVerify({
      cache,
      url: bare,
      repository: "acme/deploy",
      environment: "production",
      keyring: [key.publicKey],
      lastAccepted: last,
      now: new Date(),
      maxAgeMs: null,
    });
  }

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
      return "accepted";
    } catch (error) {
      if (error instanceof RecordVerificationError) return `${error.code}: ${error.detail}`;
      throw error;
    }
  }

  it("accepts #1 -> #4 after checking #2 and #3, refreshes included", async () => {
    const { bare, work } = fresh();
    const s1 = commitFiles(work, { "a.txt": "1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "a.txt": "2\n" });
    const r2 = await publishRecord(bare, key, s2, 2, r1);
    const fields2 = parseRecordMessage(
      parseRawCommit(git(["cat-file", "commit", r2], { cwd: bare })).message,
    ).fields;
    if (fields2 === null) throw new Error("record #2 parses");
    const refresh = await signRecord(
      buildRefreshRecord({
        previous: { sha: r2, fields: fields2 },
        issuedAt: formatIssuedAt(new Date()),
        key: key.fingerprint,
        identity,
      }),
      key.signingKey,
    );
    const r3 = writeCommit(bare, refresh.signedRaw);
    const s4 = commitFiles(work, { "a.txt": "4\n" });
    const r4 = await publishRecord(bare, key, s4, 4, r3);
    const verified = await verifyFrom(bare, { sequence: 1, recordCommit: r1 });
    expect(verified).toMatchObject({ recordCommit: r4, intermediateRecords: 2, refresh: false });
    // From #3 (the refresh) to #4: nothing in between.
    expect((await verifyFrom(bare, { sequence: 3, recordCommit: r3 })).intermediateRecords).toBe(0);
    // Moving onto the refresh itself: proof of freshness, nothing new to deploy.
    git(["update-ref", "refs/heads/approved/production", r3], { cwd: bare });
    expect(await verifyFrom(bare, { sequence: 2, recordCommit: r2 })).toMatchObject({
      refresh: true,
      intermediateRecords: 0,
    });
  });

  it("attack: a record signed by another key in the middle of the chain is refused (UNKNOWN_KEY, naming it)", async () => {
    const { bare, work } = fresh();
    const s1 = commitFiles(work, { "a.txt": "1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "a.txt": "evil\n" });
    // The attacker's "record #2" names the attacker's key; only #3 on top is the app's.
    const forged = await signRecord(
      { fields: fieldsFor(attacker, s2, 2), previousRecord: r1, identity },
      attacker.signingKey,
    );
    const r2 = writeCommit(bare, forged.signedRaw);
    const s3 = commitFiles(work, { "a.txt": "3\n" });
    await publishRecord(bare, key, s3, 3, r2);
    const outcome = await codeOf(verifyFrom(bare, { sequence: 1, recordCommit: r1 }));
    expect(outcome).toMatch(new RegExp(`^UNKNOWN_KEY: record #2 ${r2}, between the last accepted #1 and #3`));
    // Without a last accepted record there is nothing to walk: only the newest is judged (and the
    // verify command says rollback protection is off then).
    expect(await codeOf(verifyFrom(bare, null))).toBe("accepted");
  });

  it("attack: an unsigned or tampered record in the middle is refused", async () => {
    const { bare, work } = fresh();
    const s1 = commitFiles(work, { "a.txt": "1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "a.txt": "2\n" });
    const unsigned = buildRecordCommit({ fields: fieldsFor(key, s2, 2), previousRecord: r1, identity });
    const r2 = writeCommit(bare, unsigned.raw);
    const s3 = commitFiles(work, { "a.txt": "3\n" });
    await publishRecord(bare, key, s3, 3, r2);
    expect(await codeOf(verifyFrom(bare, { sequence: 1, recordCommit: r1 }))).toMatch(
      /^UNSIGNED: record #2 /,
    );

    const { bare: bare2, work: work2 } = fresh();
    const t1 = commitFiles(work2, { "a.txt": "1\n" });
    const q1 = await publishRecord(bare2, key, t1, 1, null);
    const t2 = commitFiles(work2, { "a.txt": "2\n" });
    const genuine = await signRecord(
      { fields: fieldsFor(key, t2, 2), previousRecord: q1, identity },
      key.signingKey,
    );
    // Same signature, one approver changed after signing.
    const tampered = genuine.signedRaw.replace("Pullgate-Approved-By: bob", "Pullgate-Approved-By: eve");
    expect(tampered).not.toBe(genuine.signedRaw);
    const q2 = writeCommit(bare2, tampered);
    const t3 = commitFiles(work2, { "a.txt": "3\n" });
    await publishRecord(bare2, key, t3, 3, q2);
    expect(await codeOf(verifyFrom(bare2, { sequence: 1, recordCommit: q1 }))).toMatch(
      /^SIGNATURE_INVALID: record #2 /,
    );
  });

  it("attack: a record of another environment spliced two steps down is refused", async () => {
    const { bare, work } = fresh();
    const s1 = commitFiles(work, { "a.txt": "1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "a.txt": "2\n" });
    // A genuine staging record #2 whose first parent is production's #1 (signed by the app: the
    // attacker replays a real record of another environment).
    const staging = await signRecord(
      { fields: fieldsFor(key, s2, 2, { environment: "staging" }), previousRecord: r1, identity },
      key.signingKey,
    );
    const r2 = writeCommit(bare, staging.signedRaw);
    const s3 = commitFiles(work, { "a.txt": "3\n" });
    // Production #3 over it (the head's own parent check sees only #3, which is fine): only
    // verifying #3 itself finds the staging record below it.
    const r3raw = (
      await signRecord({ fields: fieldsFor(key, s3, 3), previousRecord: r2, identity }, key.signingKey)
    ).signedRaw;
    const r3 = writeCommit(bare, r3raw);
    const s4 = commitFiles(work, { "a.txt": "4\n" });
    await publishRecord(bare, key, s4, 4, r3);
    const outcome = await codeOf(verifyFrom(bare, { sequence: 1, recordCommit: r1 }));
    expect(outcome).toMatch(/^PARENTS_INVALID: record #3 /);
    expect(commitSha(r3raw)).toBe(r3);
  });

  it("NOT_DESCENDANT when the state's sequence disagrees with the chain, or the walk misses the last record", async () => {
    const { bare, work } = fresh();
    const s1 = commitFiles(work, { "a.txt": "1\n" });
    const r1 = await publishRecord(bare, key, s1, 1, null);
    const s2 = commitFiles(work, { "a.txt": "2\n" });
    const r2 = await publishRecord(bare, key, s2, 2, r1);
    const s3 = commitFiles(work, { "a.txt": "3\n" });
    await publishRecord(bare, key, s3, 3, r2);
    // The state claims r2 is #1 (a state file edited by hand, or written by a bug).
    expect(await codeOf(verifyFrom(bare, { sequence: 1, recordCommit: r2 }))).toMatch(
      /^NOT_DESCENDANT: the chain has record #2/,
    );
    // A last accepted record that is not on the chain at all.
    const other = fresh();
    const o1 = commitFiles(other.work, { "b.txt": "x\n" });
    const elsewhere = await publishRecord(other.bare, key, o1, 1, null);
    expect(await codeOf(verifyFrom(bare, { sequence: 1, recordCommit: elsewhere }))).toMatch(
      /^NOT_DESCENDANT/,
    );
  });
});
