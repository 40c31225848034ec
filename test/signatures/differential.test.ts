/**
 * Differential test: on every fixture commit (real gpg / ssh-keygen signatures made by
 * `git commit -S`, tampered objects, unsigned ones), pullgate's verdict must equal
 * `git verify-commit`'s exit status, and the signer must be the one gpg/ssh-keygen names.
 * The one deliberate disagreement (SHA-1 OpenPGP signatures: gpg accepts them, pullgate fails
 * closed) is listed explicitly and asserted as such.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring, type Keyring } from "../../src/core/signatures/keyring.js";
import { verifyCommitSignature } from "../../src/core/signatures/verify.js";
import { buildFixture, gitVerify as runGitVerify, type Fixture, type GitVerdict } from "./fixtures.js";

/** Commits where pullgate is deliberately stricter than gpg (fail closed). */
const STRICTER_THAN_GIT = new Set(["pgp-sha1-digest"]);

let fx: Fixture;
let keyring: Keyring;
const gitVerdicts = new Map<string, GitVerdict>();
/** git verify-commit, once per commit (the reference answer does not change within a run). */
function gitVerify(fixture: Fixture, sha: string): GitVerdict {
  const known = gitVerdicts.get(sha);
  if (known !== undefined) return known;
  const verdict = runGitVerify(fixture, sha);
  gitVerdicts.set(sha, verdict);
  return verdict;
}

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
      else if (
        theirs.verified &&
        ours.format === "openpgp" &&
        (ours.keyFingerprint !== theirs.signer || ours.signer !== `${theirs.signer} ${theirs.userId}`)
      )
        mismatches.push(`${c.name}: signer ${ours.signer} != gpg ${theirs.signer} ${theirs.userId}`);
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
    expect(fx.commits.length).toBeGreaterThanOrEqual(60);
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

describe("pullgate verify-commit (CLI)", () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      env: {},
      cwd: fx.dir,
    };
  };

  it("reports every commit as git does, with the contract's fields, and exits 1 when one fails", async () => {
    const { main } = await import("../../src/cli/main.js");
    const c = io();
    const shas = fx.commits.map((x) => x.sha);
    const code = await main(["verify-commit", "--repo", fx.repo, "--keys", fx.keysDir, "--json", ...shas], c);
    expect(code).toBe(1);
    const doc = JSON.parse(c.out.join("")) as { results: Array<Record<string, unknown>> };
    expect(doc.results).toHaveLength(shas.length);
    doc.results.forEach((r, i) => {
      const name = fx.commits[i]!.name;
      expect(Object.keys(r)).toEqual(
        expect.arrayContaining(["commit", "verified", "format", "signer", "reason"]),
      );
      expect(r.commit).toBe(shas[i]);
      if (!STRICTER_THAN_GIT.has(name)) expect(r.verified, name).toBe(gitVerify(fx, shas[i]!).verified);
    });
    // The fixture's invalid allowed_signers line is reported, not silently dropped.
    expect(c.err.join("\n")).toMatch(/allowed_signers line \d+/);
  });

  it("exits 0 when every commit verifies, accepting revisions and a single key file", async () => {
    const { main } = await import("../../src/cli/main.js");
    const good = fx.commits.find((x) => x.name === "pgp-ed25519-good")!;
    const c = io();
    const code = await main(
      [
        "verify-commit",
        "--repo",
        fx.repo,
        "--keys",
        join(fx.keysDir, "pgp-ed25519.asc"),
        "--json",
        good.sha.slice(0, 10),
      ],
      c,
    );
    expect(code).toBe(0);
    const doc = JSON.parse(c.out.join("")) as {
      results: Array<{ verified: boolean; format: string; signer: string }>;
    };
    expect(doc.results[0]).toMatchObject({ verified: true, format: "openpgp" });
    expect(doc.results[0]!.signer).toContain(fx.fingerprints["pgp-ed25519"]);
    const ssh = fx.commits.find((x) => x.name === "ssh-ed25519-good")!;
    const c2 = io();
    expect(await main(["verify-commit", "--repo", fx.repo, "--keys", fx.allowedSigners, ssh.sha], c2)).toBe(
      0,
    );
    expect(c2.out.join("")).toContain("verified (ssh) ed@example.com");
  });

  it("exits 2 on usage and I/O errors, and never treats a hostile revision as an option", async () => {
    const { main } = await import("../../src/cli/main.js");
    const good = fx.commits[1]!.sha;
    const cases: string[][] = [
      ["verify-commit", "--keys", fx.keysDir, good],
      ["verify-commit", "--repo", fx.repo, good],
      ["verify-commit", "--repo", fx.repo, "--keys", fx.keysDir],
      ["verify-commit", "--repo", fx.repo, "--keys", join(fx.dir, "missing"), good],
      ["verify-commit", "--repo", join(fx.dir, "not-a-repo"), "--keys", fx.keysDir, good],
      ["verify-commit", "--repo", fx.repo, "--keys", fx.keysDir, "no-such-rev"],
      ["verify-commit", "--repo", fx.repo, "--keys", fx.keysDir, "--", "--output=/tmp/pwned"],
    ];
    for (const argv of cases) expect(await main(argv, io()), argv.join(" ")).toBe(2);
  });

  it("runs as the package bin", () => {
    const good = fx.commits.find((x) => x.name === "ssh-rsa-good")!;
    const bad = fx.commits.find((x) => x.name === "ssh-message-changed")!;
    const bin = join(process.cwd(), "bin", "pullgate.js");
    const ok = spawnSync(
      process.execPath,
      [bin, "verify-commit", "--repo", fx.repo, "--keys", fx.keysDir, "--json", good.sha],
      {
        env: { ...process.env, PULLGATE_FROM_SOURCE: "1" },
        encoding: "utf8",
      },
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).results[0].verified).toBe(true);
    const ko = spawnSync(
      process.execPath,
      [bin, "verify-commit", "--repo", fx.repo, "--keys", fx.keysDir, "--json", good.sha, bad.sha],
      {
        env: { ...process.env, PULLGATE_FROM_SOURCE: "1" },
        encoding: "utf8",
      },
    );
    expect(ko.status).toBe(1);
    expect(JSON.parse(ko.stdout).results.map((r: { verified: boolean }) => r.verified)).toEqual([
      true,
      false,
    ]);
  });
});

describe("rebuilding real signed commits from an API-style payload + signature", () => {
  it("reproduces every genuinely signed fixture commit byte for byte", async () => {
    const { rebuildFromGitHub, splitSignedPayload } = await import("../../src/core/signatures/commit.js");
    let rebuilt = 0;
    for (const c of fx.commits.filter((x) => /-good(-2)?$/.test(x.name))) {
      const raw = new Uint8Array(
        execFileSync("git", ["cat-file", "commit", c.sha], { cwd: fx.repo, env: fx.env }),
      );
      const split = splitSignedPayload(raw);
      // JSON (the API) carries text; the latin-1 commit can only be rebuilt from bytes.
      const text = Buffer.from(split.payload).toString("utf8");
      const payload = Buffer.from(text, "utf8").equals(Buffer.from(split.payload)) ? text : split.payload;
      const signature = Buffer.from(split.signature!).toString("utf8");
      for (const sig of [signature, signature.trimEnd()]) {
        const r = rebuildFromGitHub(payload, sig, c.sha);
        expect(r.ok, c.name).toBe(true);
        if (r.ok) expect(Buffer.from(r.raw).equals(Buffer.from(raw))).toBe(true);
      }
      rebuilt++;
    }
    expect(rebuilt).toBeGreaterThanOrEqual(12);
  });
});

describe("SHA-256 repositories (gpgsig-sha256)", () => {
  it("agrees with git verify-commit on signed, renamed-header and tampered commits", async () => {
    const repo = join(fx.dir, "repo256");
    const env = { ...fx.env };
    const git = (args: string[], input?: string | Buffer) =>
      execFileSync("git", ["-c", "user.name=F", "-c", "user.email=f@example.com", ...args], {
        cwd: repo,
        env,
        input,
      })
        .toString("latin1")
        .trim();
    execFileSync("git", ["init", "-q", "--object-format=sha256", repo], { env });
    const shas: Array<[string, string]> = [];
    const sshKey = join(fx.dir, "ssh", "ssh-ed25519");
    git([
      "-c",
      "gpg.format=ssh",
      "-c",
      `user.signingkey=${sshKey}`,
      "commit",
      "-q",
      "-S",
      "--allow-empty",
      "-m",
      "ssh signed",
    ]);
    shas.push(["ssh", git(["rev-parse", "HEAD"])]);
    git([
      "-c",
      `user.signingkey=${fx.fingerprints["pgp-ed25519"]}!`,
      "commit",
      "-q",
      "-S",
      "--allow-empty",
      "-m",
      "pgp signed",
    ]);
    shas.push(["openpgp", git(["rev-parse", "HEAD"])]);
    const raw = git(["cat-file", "commit", shas[1]![1]]) + "\n";
    expect(raw).toContain("\ngpgsig-sha256 ");
    const write = (name: string, text: string) => {
      const sha = git(
        ["hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
        Buffer.from(text, "latin1"),
      );
      shas.push([name, sha]);
    };
    write("sha1-header-in-sha256-repo", raw.replace("\ngpgsig-sha256 ", "\ngpgsig "));
    write("message-changed", raw.replace("pgp signed", "pgp signeD"));
    const k = await loadKeyring({
      openpgp: [readFileSync(join(fx.keysDir, "pgp-ed25519.asc"), "utf8")],
      sshAllowedSigners: readFileSync(fx.allowedSigners, "utf8"),
    });
    const results: string[] = [];
    for (const [name, sha] of shas) {
      const bytes = new Uint8Array(execFileSync("git", ["cat-file", "commit", sha], { cwd: repo, env }));
      const ours = await verifyCommitSignature(bytes, k, { now: new Date(), objectFormat: "sha256" });
      expect(ours.commit).toBe(sha);
      const theirs = spawnSync(
        "git",
        ["-c", `gpg.ssh.allowedSignersFile=${fx.allowedSigners}`, "verify-commit", sha],
        {
          cwd: repo,
          env: { ...env, GNUPGHOME: fx.verifyHome },
        },
      );
      results.push(`${name}: git=${theirs.status === 0} pullgate=${ours.verified} (${ours.reason})`);
      expect(ours.verified, `${name}: ${ours.reason}`).toBe(theirs.status === 0);
    }
    expect(results.filter((r) => r.includes("git=true"))).toHaveLength(2);
  });
});
