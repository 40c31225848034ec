/**
 * One repository of records, genuine and not, shared by the Flux and Argo CD interop tests: every
 * case is a real commit object written by git, with the verdict pullgate gives it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRecordCommit } from "../../src/record/commit.js";
import { RecordVerificationError } from "../../src/record/errors.js";
import { formatIssuedAt, parseRecordMessage } from "../../src/record/format.js";
import { parseRawCommit } from "../../src/record/raw-commit.js";
import { buildRefreshRecord } from "../../src/record/refresh.js";
import { signRecord } from "../../src/record/sign.js";
import { recordIssuedAt } from "../../src/record/time.js";
import { verifyRecord } from "../../src/record/verify.js";
import {
  commitFiles,
  fieldsFor,
  git,
  gnupgHomeWith,
  removeDir,
  makeKey,
  makeRepo,
  publishRecord,
  writeCommit,
  type TestKey,
} from "../record/helpers.js";

const identity = { name: "pullgate[bot]", email: "pullgate@example.com" };

export interface InteropCase {
  name: string;
  sha: string;
  /** Source commit tree, for pullgate's own verification. */
  sourceTree: string;
  previousRaw: string | null;
}

export interface InteropWorld {
  bare: string;
  app: TestKey;
  other: TestKey;
  /** Key ring files: one armored key each, two concatenated blocks, and one block holding both. */
  keyRings: {
    app: string;
    other: string;
    legacy: string;
    concatenated: string;
    concatenatedReversed: string;
    oneBlockBoth: string;
  };
  /** A GNUPGHOME with only the legacy fixture's key. */
  gnupgLegacy: string;
  /** A GNUPGHOME with only the app's public key (Argo CD's keyring for the AppProject). */
  gnupgApp: string;
  cases: Record<
    | "genuine"
    | "refresh"
    | "landingAfterRefresh"
    | "legacy"
    | "otherKey"
    | "tampered"
    | "unsigned"
    | "appClockAheadNotBackdated"
    | "appClockAheadBackdated",
    InteropCase
  >;
  /** pullgate's own verdict on a case (its refusal code, or "accepted"), at the real clock. */
  pullgate(c: InteropCase, keyring?: string[]): Promise<string>;
}

export const APP_CLOCK_AHEAD_MS = 60_000;

export async function buildWorld(root: string): Promise<InteropWorld> {
  const app = await makeKey("pullgate", "pullgate@example.com");
  const other = await makeKey("mallory", "mallory@example.com");
  const { bare, work } = makeRepo(join(root, "repo"));
  const cat = (sha: string) => git(["cat-file", "commit", sha], { cwd: bare });
  const caseOf = (
    name: string,
    sha: string,
    source: { tree: string },
    previous: string | null,
  ): InteropCase => ({
    name,
    sha,
    sourceTree: source.tree,
    previousRaw: previous === null ? null : cat(previous),
  });

  const s1 = commitFiles(work, { "app.yaml": "replicas: 1\n" });
  const r1 = await publishRecord(bare, app, s1, 1, null);
  const fields1 = parseRecordMessage(parseRawCommit(cat(r1)).message).fields;
  if (fields1 === null) throw new Error("record #1 parses");
  const refresh = await signRecord(
    buildRefreshRecord({
      previous: { sha: r1, fields: fields1 },
      issuedAt: recordIssuedAt(new Date(), { notBefore: fields1.issuedAt }),
      key: app.fingerprint,
      identity,
    }),
    app.signingKey,
  );
  const r2 = writeCommit(bare, refresh.signedRaw);
  const s3 = commitFiles(work, { "app.yaml": "replicas: 3\n" });
  const r3 = await publishRecord(bare, app, s3, 3, r2);

  const legacy = JSON.parse(
    readFileSync(join(__dirname, "..", "record", "fixtures", "legacy-records.json"), "utf8"),
  ) as { publicKey: string; records: { sha: string; raw: string }[] };
  const legacyRecord = legacy.records[0];
  if (legacyRecord === undefined) throw new Error("legacy fixture");
  const legacySha = git(["hash-object", "-t", "commit", "-w", "--stdin", "--literally"], {
    cwd: bare,
    input: legacyRecord.raw,
  }).trim();
  if (legacySha !== legacyRecord.sha) throw new Error("legacy record hashes differently");

  const s4 = commitFiles(work, { "app.yaml": "replicas: 4\n" });
  // Signed by a key nobody pinned (names that key, so only the key decides).
  const otherSigned = await signRecord(
    { fields: fieldsFor(other, s4, 1), previousRecord: null, identity },
    other.signingKey,
  );
  const otherKey = writeCommit(bare, otherSigned.signedRaw);
  // The app's genuine signature over a message changed afterwards (an approver replaced).
  const genuine4 = await signRecord(
    { fields: fieldsFor(app, s4, 1), previousRecord: null, identity },
    app.signingKey,
  );
  const tampered = writeCommit(
    bare,
    genuine4.signedRaw.replace("Pullgate-Approved-By: bob", "Pullgate-Approved-By: eve"),
  );
  const unsigned = writeCommit(
    bare,
    buildRecordCommit({ fields: fieldsFor(app, s4, 1), previousRecord: null, identity }).raw,
  );
  // The app's clock runs APP_CLOCK_AHEAD_MS ahead of the cluster's (the test's real clock).
  const appNow = new Date(Date.now() + APP_CLOCK_AHEAD_MS);
  const notBackdated = await signRecord(
    { fields: fieldsFor(app, s4, 1, { issuedAt: formatIssuedAt(appNow) }), previousRecord: null, identity },
    app.signingKey,
  );
  const backdated = await signRecord(
    {
      fields: fieldsFor(app, s4, 1, { issuedAt: recordIssuedAt(appNow, { signingKey: app.signingKey }) }),
      previousRecord: null,
      identity,
    },
    app.signingKey,
  );

  const keyRings = {
    app: join(root, "app.asc"),
    other: join(root, "other.asc"),
    legacy: join(root, "legacy.asc"),
    concatenated: join(root, "concatenated.asc"),
    concatenatedReversed: join(root, "concatenated-reversed.asc"),
    oneBlockBoth: join(root, "one-block-both.asc"),
  };
  writeFileSync(keyRings.app, app.publicKey);
  writeFileSync(keyRings.other, other.publicKey);
  writeFileSync(keyRings.legacy, legacy.publicKey);
  writeFileSync(keyRings.concatenated, app.publicKey + other.publicKey);
  writeFileSync(keyRings.concatenatedReversed, other.publicKey + app.publicKey);
  // `gpg --export --armor A B`: one armored block holding both keys.
  const both = gnupgHomeWith(app.publicKey + other.publicKey);
  writeFileSync(
    keyRings.oneBlockBoth,
    execFileSync("gpg", ["--batch", "--export", "--armor", app.fingerprint, other.fingerprint], {
      env: { ...process.env, GNUPGHOME: both },
    }),
  );
  removeDir(both);

  const cases: InteropWorld["cases"] = {
    genuine: caseOf("genuine record #1", r1, s1, null),
    refresh: caseOf("refresh record #2", r2, s1, r1),
    landingAfterRefresh: caseOf("record #3 after a refresh", r3, s3, r2),
    legacy: {
      name: "record made by pullgate 0255bcf",
      sha: legacySha,
      sourceTree: "b".repeat(40),
      previousRaw: null,
    },
    otherKey: caseOf("record signed by another key", otherKey, s4, null),
    tampered: caseOf("tampered message", tampered, s4, null),
    unsigned: caseOf("unsigned commit", unsigned, s4, null),
    appClockAheadNotBackdated: caseOf(
      "app clock 60 s ahead, signed at the app's now",
      writeCommit(bare, notBackdated.signedRaw),
      s4,
      null,
    ),
    appClockAheadBackdated: caseOf(
      "app clock 60 s ahead, signed at recordIssuedAt",
      writeCommit(bare, backdated.signedRaw),
      s4,
      null,
    ),
  };

  return {
    bare,
    app,
    other,
    keyRings,
    gnupgApp: gnupgHomeWith(app.publicKey),
    gnupgLegacy: gnupgHomeWith(legacy.publicKey),
    cases,
    async pullgate(c, keyring) {
      const legacyCase = c.sha === legacySha;
      try {
        await verifyRecord(
          {
            recordCommit: c.sha,
            recordRaw: cat(c.sha),
            previousRecordRaw: c.previousRaw,
            sourceCommitTree: c.sourceTree,
            descendsFromLastAccepted: null,
          },
          {
            keyring: keyring ?? [legacyCase ? legacy.publicKey : app.publicKey],
            repository: "acme/deploy",
            environment: "production",
            lastAccepted: null,
            now: new Date(),
            maxAgeMs: null,
          },
        );
        return "accepted";
      } catch (error) {
        if (error instanceof RecordVerificationError) return error.code;
        throw error;
      }
    },
  };
}
