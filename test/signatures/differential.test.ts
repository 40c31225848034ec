/**
 * Differential test: on every fixture commit (real gpg / ssh-keygen signatures made by
 * `git commit -S`, tampered objects, unsigned ones), pullgate's verdict must equal
 * `git verify-commit`'s exit status, and the signer must be the one gpg/ssh-keygen names.
 * The one deliberate disagreement (SHA-1 OpenPGP signatures: gpg accepts them, pullgate fails
 * closed) is listed explicitly and asserted as such.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring, type Keyring } from "../../src/core/signatures/keyring.js";
import { verifyCommitSignature } from "../../src/core/signatures/verify.js";
import { buildFixture, gitVerify, type Fixture } from "./fixtures.js";

/** Commits where pullgate is deliberately stricter than gpg (fail closed). */
const STRICTER_THAN_GIT = new Set(["pgp-sha1-digest"]);

let fx: Fixture;
let keyring: Keyring;

beforeAll(async () => {
  fx = buildFixture({ openpgp: true, ssh: true });
  const asc = readdirSync(fx.keysDir)
    .filter((f) => f.endsWith(".asc"))
    .map((f) => readFileSync(join(fx.keysDir, f), "utf8"));
  keyring = await loadKeyring({ openpgp: asc, sshAllowedSigners: readFileSync(fx.allowedSigners, "utf8") });
});

afterAll(() => fx?.cleanup());

describe("pullgate agrees with git verify-commit", () => {
  it("on every fixture commit", async () => {
    const table: string[] = [];
    let agree = 0;
    const mismatches: string[] = [];
    for (const c of fx.commits) {
      const raw = new Uint8Array(
        execFileSync("git", ["cat-file", "commit", c.sha], { cwd: fx.repo, env: fx.env }),
      );
      const ours = await verifyCommitSignature(raw, keyring, { now: new Date() });
      const theirs = gitVerify(fx, c.sha);
      expect(ours.commit).toBe(c.sha);
      const same = ours.verified === theirs.verified;
      if (same) agree++;
      table.push(
        `${same ? "agree" : "DIFFER"}\tgit=${theirs.verified ? "ok" : "fail"}\tpullgate=${ours.verified ? "ok" : "fail"}\t${c.name}\t${ours.reason}`,
      );
      if (STRICTER_THAN_GIT.has(c.name)) {
        if (theirs.verified !== true || ours.verified !== false)
          mismatches.push(`${c.name}: expected git=ok pullgate=fail`);
        continue;
      }
      if (!same) mismatches.push(`${c.name}: pullgate=${ours.reason}\ngit=${theirs.output}`);
      else if (theirs.verified && ours.format === "openpgp" && ours.keyFingerprint !== theirs.signer)
        mismatches.push(`${c.name}: fingerprint ${ours.keyFingerprint} != gpg ${theirs.signer}`);
      else if (
        theirs.verified &&
        ours.format === "ssh" &&
        (ours.keyFingerprint !== theirs.sshFingerprint || !ours.signer?.startsWith(`${theirs.signer} (`))
      )
        mismatches.push(
          `${c.name}: signer ${ours.signer} != ssh-keygen ${theirs.signer} ${theirs.sshFingerprint}`,
        );
    }
    process.stderr.write(
      `\nsignature agreement: ${agree}/${fx.commits.length} commits\n${table.join("\n")}\n`,
    );
    // Every scenario of the fixture is present (guards against a fixture silently shrinking).
    expect(fx.commits.length).toBeGreaterThanOrEqual(45);
    expect(mismatches).toEqual([]);
    expect(agree).toBe(fx.commits.length - STRICTER_THAN_GIT.size);
  });

  it("names the OpenPGP signer by primary fingerprint and primary user ID, also for subkey signatures", async () => {
    const c = fx.commits.find((x) => x.name === "pgp-subkey-good")!;
    const raw = new Uint8Array(
      execFileSync("git", ["cat-file", "commit", c.sha], { cwd: fx.repo, env: fx.env }),
    );
    const v = await verifyCommitSignature(raw, keyring, { now: new Date() });
    expect(v.verified).toBe(true);
    expect(v.keyFingerprint).toBe(fx.fingerprints["pgp-subkey"]);
    expect(v.signer).toBe(`${fx.fingerprints["pgp-subkey"]} pgp-subkey <pgp-subkey@example.com>`);
    expect(v.signerEmail).toBe("pgp-subkey@example.com");
  });

  it("gives gpg's reasons for expired, revoked and unknown keys", async () => {
    const reason = async (name: string) => {
      const c = fx.commits.find((x) => x.name === name)!;
      const raw = new Uint8Array(
        execFileSync("git", ["cat-file", "commit", c.sha], { cwd: fx.repo, env: fx.env }),
      );
      return (await verifyCommitSignature(raw, keyring, { now: new Date() })).reason;
    };
    expect(await reason("pgp-expired-signed-before-expiry")).toMatch(/expired/);
    expect(await reason("pgp-revoked")).toMatch(/revoked/);
    expect(await reason("pgp-subkey-revoked")).toMatch(/revoked/);
    expect(await reason("pgp-unknown-key")).toMatch(/unknown key/);
    expect(await reason("ssh-unknown-key")).toMatch(/unknown key/);
    expect(await reason("unsigned")).toBe("no signature");
  });

  it("judges an expired key as valid when verifying at a time before its expiry (the clock is an input)", async () => {
    const c = fx.commits.find((x) => x.name === "pgp-expired-signed-before-expiry")!;
    const raw = new Uint8Array(
      execFileSync("git", ["cat-file", "commit", c.sha], { cwd: fx.repo, env: fx.env }),
    );
    const then = await verifyCommitSignature(raw, keyring, { now: new Date("2020-07-01T00:00:00Z") });
    expect(then.verified).toBe(true);
    const now = await verifyCommitSignature(raw, keyring, { now: new Date() });
    expect(now.verified).toBe(false);
  });
});
