/**
 * The raw commit parser: property tests (never throws anything but RawCommitError; round trip with the
 * builder) and the differential in the other direction — a record signed by GnuPG through
 * `git commit -S` (not by openpgp.js) is accepted by our verifier, and the payload we extract is what
 * git signed.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRawCommit } from "../../src/record/commit.js";
import { formatRecordMessage } from "../../src/record/format.js";
import { commitSha, parseRawCommit, RawCommitError, type GitIdentity } from "../../src/record/raw-commit.js";
import { verifyRecord } from "../../src/record/verify.js";
import {
  commitFiles,
  fieldsFor,
  git,
  makeKey,
  makeRepo,
  removeDir,
  tempDir,
  type TestKey,
} from "./helpers.js";

const hex40 = fc.stringMatching(/^[0-9a-f]{40}$/);
const identity: fc.Arbitrary<GitIdentity> = fc.record({
  name: fc.stringMatching(/^[A-Za-z][A-Za-z .[\]-]{0,20}[A-Za-z\]]$/),
  email: fc.stringMatching(/^[a-z0-9.]{1,10}@[a-z0-9.]{1,10}$/),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000 }),
  timezone: fc.constantFrom("+0000", "-0130", "+0545"),
});

describe("parseRawCommit", () => {
  it("round-trips builder output, signed or not", () => {
    fc.assert(
      fc.property(
        hex40,
        fc.array(hex40, { maxLength: 3 }),
        identity,
        identity,
        fc.string({ maxLength: 200 }),
        fc.option(fc.constant("-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"), {
          nil: undefined,
        }),
        (tree, parents, author, committer, message, signature) => {
          const raw = buildRawCommit({
            tree,
            parents,
            author,
            committer,
            message,
            ...(signature === undefined ? {} : { signature }),
          });
          const parsed = parseRawCommit(raw);
          expect(parsed).toMatchObject({
            tree,
            parents,
            author,
            committer,
            message,
            gpgsig: signature ?? null,
          });
          expect(parsed.signedPayload).toBe(buildRawCommit({ tree, parents, author, committer, message }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("throws only RawCommitError on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        try {
          parseRawCommit(text);
        } catch (error) {
          expect(error).toBeInstanceOf(RawCommitError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses duplicated signatures and out-of-order headers", () => {
    const base = `tree ${"a".repeat(40)}\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n`;
    expect(() => parseRawCommit(base + "gpgsig x\ngpgsig y\n\nmsg")).toThrow(/more than one gpgsig/);
    expect(() => parseRawCommit(base + `parent ${"b".repeat(40)}\n\nmsg`)).toThrow(/out of place/);
    expect(() => parseRawCommit(`author A <a@x> 1 +0000\n\nmsg`)).toThrow(/tree/);
  });
});

describe("a record signed by GnuPG through git commit -S verifies with our verifier", () => {
  let root: string;
  let home: string;
  let key: TestKey;
  beforeAll(async () => {
    root = tempDir("gitsign");
    home = join(root, "gnupg");
    execFileSync("mkdir", ["-m", "700", home]);
    key = await makeKey();
    execFileSync("gpg", ["--batch", "--quiet", "--import"], {
      input: key.privateKey,
      env: { ...process.env, GNUPGHOME: home },
      stdio: "pipe",
    });
  });
  afterAll(() => {
    try {
      execFileSync("gpgconf", ["--kill", "gpg-agent"], {
        env: { ...process.env, GNUPGHOME: home },
        stdio: "pipe",
      });
    } catch {
      /* no agent started */
    }
    removeDir(root);
  });

  it("git-made signature, our payload extraction and verification agree", async () => {
    const { bare, work } = makeRepo(join(root, "r"));
    const source = commitFiles(work, { "a.txt": "a\n" });
    const fields = fieldsFor(key, source, 1);
    const message = formatRecordMessage(fields);
    const date = `${Date.parse(fields.issuedAt) / 1000} +0000`;
    const sha = git(
      [
        "-c",
        `user.signingkey=${key.fingerprint}`,
        "commit-tree",
        `-S${key.fingerprint}`,
        source.tree,
        "-p",
        source.commit,
        "-F",
        "-",
      ],
      {
        cwd: bare,
        input: message,
        env: { GNUPGHOME: home, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
      },
    ).trim();
    const raw = git(["cat-file", "commit", sha], { cwd: bare });
    expect(commitSha(raw)).toBe(sha);
    const parsed = parseRawCommit(raw);
    expect(parsed.gpgsig).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    const verified = await verifyRecord(
      {
        recordCommit: sha,
        recordRaw: raw,
        previousRecordRaw: null,
        sourceCommitTree: source.tree,
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
    expect(verified.signer).toBe(key.fingerprint);
    expect(verified.fields).toEqual(fields);
  });
});
