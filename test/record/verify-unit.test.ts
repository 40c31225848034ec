/**
 * verifyRecord as a pure function (no git): the checks CLI tests cannot easily reach, and agreement
 * with GnuPG (`git verify-commit`) on tampered records, byte by byte.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveRepository } from "../../src/agent/repository.js";
import { parseDuration } from "../../src/agent/duration.js";
import { buildRecordCommit, insertGpgsig } from "../../src/record/commit.js";
import {
  RecordVerificationError,
  REFUSAL_MESSAGES,
  type RecordRefusalCode,
} from "../../src/record/errors.js";
import { formatIssuedAt } from "../../src/record/format.js";
import { commitSha } from "../../src/record/raw-commit.js";
import { signCommitPayload, signRecord } from "../../src/record/sign.js";
import {
  verifyRecord,
  type RecordVerificationContext,
  type RecordVerificationInput,
} from "../../src/record/verify.js";
import {
  fieldsFor,
  gnupgHomeWith,
  makeKey,
  makeRepo,
  commitFiles,
  removeDir,
  tempDir,
  writeCommit,
  type TestKey,
} from "./helpers.js";

const SOURCE = { commit: "1".repeat(40), tree: "2".repeat(40) };
const identity = { name: "pullgate[bot]", email: "bot@example.com" };

async function expectCode(promise: Promise<unknown>, code: RecordRefusalCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecordVerificationError);
  expect((error as RecordVerificationError).code).toBe(code);
  expect((error as RecordVerificationError).message).toContain(REFUSAL_MESSAGES[code]);
}

describe("verifyRecord (pure)", () => {
  let key: TestKey;
  let ctx: RecordVerificationContext;
  let input: RecordVerificationInput;
  const now = new Date("2026-11-22T02:00:00Z");
  beforeAll(async () => {
    key = await makeKey();
    ctx = {
      keyring: [key.publicKey],
      repository: "acme/deploy",
      environment: "production",
      lastAccepted: null,
      now,
      maxAgeMs: null,
    };
    const signed = await signRecord(
      {
        fields: fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(now) }),
        previousRecord: null,
        identity,
      },
      key.signingKey,
    );
    input = {
      recordCommit: signed.sha,
      recordRaw: signed.signedRaw,
      previousRecordRaw: null,
      sourceCommitTree: SOURCE.tree,
      descendsFromLastAccepted: null,
    };
  });

  it("accepts a good record and reports signer and fields", async () => {
    const verified = await verifyRecord(input, ctx);
    expect(verified).toMatchObject({
      recordCommit: input.recordCommit,
      signer: key.fingerprint,
      unchanged: false,
      fields: { sequence: 1 },
    });
  });

  it("MALFORMED_RECORD when the object does not hash to the ref's SHA", async () => {
    await expectCode(verifyRecord({ ...input, recordCommit: "f".repeat(40) }, ctx), "MALFORMED_RECORD");
  });

  it("KEY_MISMATCH when the Pullgate-Key trailer names another key than the signer", async () => {
    const other = await makeKey("other", "o@example.com");
    const fields = fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(now), key: other.fingerprint });
    // Build with the other key's fingerprint in the trailer but sign with `key` (signRecord would refuse).
    const otherSigned = await signRecord({ fields, previousRecord: null, identity }, other.signingKey);
    const raw = otherSigned.raw;
    const signedRaw = insertGpgsig(raw, await signCommitPayload(raw, key.signingKey, now));
    await expectCode(
      verifyRecord(
        { ...input, recordCommit: commitSha(signedRaw), recordRaw: signedRaw },
        { ...ctx, keyring: [key.publicKey, other.publicKey] },
      ),
      "KEY_MISMATCH",
    );
  });

  it("ISSUED_IN_FUTURE beyond the clock skew, EXPIRED beyond max-age even for the accepted record (freeze)", async () => {
    // A signature made 2 minutes "in the future" (app clock ahead) is fine; 10 minutes is refused.
    expect((await verifyRecord(input, { ...ctx, now: new Date(now.getTime() - 120_000) })).signer).toBe(
      key.fingerprint,
    );
    await expectCode(
      verifyRecord(input, { ...ctx, now: new Date(now.getTime() - 600_000) }),
      "SIGNATURE_INVALID",
    );
    // Signed now, but the trailer claims an issue time an hour ahead (to outlive --max-age): the
    // signature's own time gives it away.
    const future = buildRecordCommit({
      fields: fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(new Date(now.getTime() + 3600_000)) }),
      previousRecord: null,
      identity,
    });
    const futureRaw = insertGpgsig(future.raw, await signCommitPayload(future.raw, key.signingKey, now));
    await expectCode(
      verifyRecord({ ...input, recordCommit: commitSha(futureRaw), recordRaw: futureRaw }, ctx),
      "SIGNATURE_TIME_MISMATCH",
    );
    // Issued 9 minutes ahead, signed 4 minutes ahead: the signature is within the skew of both the
    // clock and Issued-At, the issue time is not.
    const ahead = buildRecordCommit({
      fields: fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(new Date(now.getTime() + 540_000)) }),
      previousRecord: null,
      identity,
    });
    const aheadRaw = insertGpgsig(
      ahead.raw,
      await signCommitPayload(ahead.raw, key.signingKey, new Date(now.getTime() + 240_000)),
    );
    await expectCode(
      verifyRecord({ ...input, recordCommit: commitSha(aheadRaw), recordRaw: aheadRaw }, ctx),
      "ISSUED_IN_FUTURE",
    );
    const later = new Date(now.getTime() + 2 * 86_400_000);
    await expectCode(verifyRecord(input, { ...ctx, now: later, maxAgeMs: 86_400_000 }), "EXPIRED");
    await expectCode(
      verifyRecord(
        { ...input, descendsFromLastAccepted: true },
        {
          ...ctx,
          now: later,
          maxAgeMs: 86_400_000,
          lastAccepted: { sequence: 1, recordCommit: input.recordCommit },
        },
      ),
      "EXPIRED",
    );
  });

  it("recognises the last accepted record as unchanged, and refuses it under another sequence", async () => {
    const same = await verifyRecord(input, {
      ...ctx,
      lastAccepted: { sequence: 1, recordCommit: input.recordCommit },
    });
    expect(same.unchanged).toBe(true);
    await expectCode(
      verifyRecord(input, { ...ctx, lastAccepted: { sequence: 4, recordCommit: input.recordCommit } }),
      "SEQUENCE_NOT_INCREASING",
    );
  });

  it("TREE_MISMATCH when the source commit is unavailable; UNKNOWN_KEY with an unreadable keyring", async () => {
    await expectCode(verifyRecord({ ...input, sourceCommitTree: null }, ctx), "TREE_MISMATCH");
    await expectCode(verifyRecord(input, { ...ctx, keyring: ["not a key"] }), "UNKNOWN_KEY");
  });

  it("PARENTS_INVALID when record #2's previous record is missing or is another environment's", async () => {
    const second = await signRecord(
      {
        fields: fieldsFor(key, SOURCE, 2, { issuedAt: formatIssuedAt(now) }),
        previousRecord: input.recordCommit,
        identity,
      },
      key.signingKey,
    );
    const base = { ...input, recordCommit: second.sha, recordRaw: second.signedRaw };
    expect((await verifyRecord({ ...base, previousRecordRaw: input.recordRaw }, ctx)).fields.sequence).toBe(
      2,
    );
    await expectCode(verifyRecord({ ...base, previousRecordRaw: null }, ctx), "PARENTS_INVALID");
    const staging = await signRecord(
      {
        fields: fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(now), environment: "staging" }),
        previousRecord: null,
        identity,
      },
      key.signingKey,
    );
    const onStaging = await signRecord(
      {
        fields: fieldsFor(key, SOURCE, 2, { issuedAt: formatIssuedAt(now) }),
        previousRecord: staging.sha,
        identity,
      },
      key.signingKey,
    );
    await expectCode(
      verifyRecord(
        {
          ...input,
          recordCommit: onStaging.sha,
          recordRaw: onStaging.signedRaw,
          previousRecordRaw: staging.signedRaw,
        },
        ctx,
      ),
      "PARENTS_INVALID",
    );
  });
});

describe("our verifier agrees with GnuPG on tampered records", () => {
  let root: string;
  let key: TestKey;
  let home: string;
  let bare: string;
  let signedRaw: string;
  let sourceTree: string;
  beforeAll(async () => {
    root = tempDir("agree");
    key = await makeKey();
    home = gnupgHomeWith(key.publicKey);
    const repo = makeRepo(join(root, "r"));
    bare = repo.bare;
    const source = commitFiles(repo.work, { "a.txt": "a\n" });
    sourceTree = source.tree;
    signedRaw = (
      await signRecord({ fields: fieldsFor(key, source, 1), previousRecord: null, identity }, key.signingKey)
    ).signedRaw;
  });
  afterAll(() => {
    removeDir(root);
    removeDir(home);
  });

  it("for random single-character changes outside the signature, both refuse (or both accept the original)", async () => {
    const sigStart = signedRaw.indexOf("gpgsig ");
    const sigEnd = signedRaw.indexOf("-----END PGP SIGNATURE-----") + "-----END PGP SIGNATURE-----".length;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: signedRaw.length - 1 }),
        fc.constantFrom("x", "0", " ", "\n", ""),
        async (at, replacement) => {
          fc.pre(at < sigStart || at > sigEnd);
          const tampered = signedRaw.slice(0, at) + replacement + signedRaw.slice(at + 1);
          fc.pre(tampered !== signedRaw);
          let sha: string;
          try {
            sha = writeCommit(bare, tampered);
          } catch {
            return; // git itself refuses the object (e.g. broken header): nothing to compare
          }
          const gpg = spawnSync("git", ["verify-commit", sha], {
            cwd: bare,
            env: { ...process.env, GNUPGHOME: home },
          });
          let ours = true;
          try {
            await verifyRecord(
              {
                recordCommit: sha,
                recordRaw: tampered,
                previousRecordRaw: null,
                sourceCommitTree: sourceTree,
                descendsFromLastAccepted: null,
              },
              {
                keyring: [key.publicKey],
                repository: "acme/deploy",
                environment: "production",
                lastAccepted: null,
                now: new Date(),
                maxAgeMs: null,
              },
            );
          } catch (error) {
            if (!(error instanceof RecordVerificationError)) throw error;
            ours = false;
          }
          // We may refuse more than GnuPG (a valid signature over a non-record), never less.
          if (ours) expect(gpg.status).toBe(0);
          if (gpg.status !== 0) expect(ours).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("agent option parsing", () => {
  it("parses durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    for (const bad of ["", "0s", "1.5h", "10", "h", "-1m", "1w", "01m", "1h30m"])
      expect(parseDuration(bad)).toBeNull();
  });

  it("derives owner/name from URLs and paths", () => {
    expect(deriveRepository("https://github.com/acme/deploy.git")).toBe("acme/deploy");
    expect(deriveRepository("https://x-access-token:t@ghe.example/acme/deploy")).toBe("acme/deploy");
    expect(deriveRepository("git@github.com:acme/deploy.git")).toBe("acme/deploy");
    expect(deriveRepository("ssh://git@github.com/acme/deploy.git")).toBe("acme/deploy");
    expect(deriveRepository("file:///srv/git/acme/deploy.git")).toBe("acme/deploy");
    expect(deriveRepository("/srv/git/acme/deploy.git/")).toBe("acme/deploy");
    expect(deriveRepository("http://127.0.0.1:3000/acme/deploy.git")).toBe("acme/deploy");
    expect(deriveRepository("deploy.git")).toBeNull();
    expect(deriveRepository("/")).toBeNull();
    expect(deriveRepository("https://github.com/../deploy")).toBeNull();
  });
});
