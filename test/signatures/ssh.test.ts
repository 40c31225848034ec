import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createPrivateKey, sign as cryptoSign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkAllowedKey,
  findPrincipals,
  matchPatternList,
  parseAbsoluteTime,
  parseAllowedSigners,
  sshKeyIdentity,
} from "../../src/core/signatures/allowed-signers.js";
import { checkSshSignature, parseSshSignature } from "../../src/core/signatures/ssh.js";
import { sshString } from "../../src/core/signatures/ssh-wire.js";

const enc = new TextEncoder();
let dir: string;
const env = { PATH: process.env.PATH, HOME: "/nonexistent", LC_ALL: "C" };
let ed: { path: string; pub: string; blob: Uint8Array };
let rsaPem: { path: string; pub: string; blob: Uint8Array };
const MESSAGE = enc.encode("tree x\n\nhello\n");

function keygen(name: string, args: string[]) {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", name, "-f", path, ...args], { env });
  const pub = readFileSync(`${path}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { path, pub, blob: Uint8Array.from(Buffer.from(pub.split(" ")[1]!, "base64")) };
}

function sshSign(keyPath: string, message: Uint8Array, namespace = "git"): string {
  const file = join(dir, "msg");
  writeFileSync(file, message);
  rmSync(`${file}.sig`, { force: true });
  execFileSync("ssh-keygen", ["-Y", "sign", "-n", namespace, "-f", keyPath, file], { env, stdio: "pipe" });
  return readFileSync(`${file}.sig`, "utf8");
}

/** ssh-keygen -Y find-principals: the reference for allowed_signers matching. */
function sshFindPrincipals(allowed: string, sig: string): string[] {
  writeFileSync(join(dir, "allowed"), allowed);
  writeFileSync(join(dir, "find.sig"), sig);
  const r = spawnSync(
    "ssh-keygen",
    ["-Y", "find-principals", "-f", join(dir, "allowed"), "-s", join(dir, "find.sig")],
    { env, encoding: "utf8" },
  );
  return r.status === 0 ? r.stdout.split("\n").filter((l) => l !== "") : [];
}

function sshVerify(allowed: string, principal: string, sig: string, message: Uint8Array): boolean {
  writeFileSync(join(dir, "allowed"), allowed);
  writeFileSync(join(dir, "verify.sig"), sig);
  const r = spawnSync(
    "ssh-keygen",
    ["-Y", "verify", "-n", "git", "-f", join(dir, "allowed"), "-I", principal, "-s", join(dir, "verify.sig")],
    {
      env,
      input: message,
    },
  );
  return r.status === 0;
}

function armor(blob: Uint8Array): string {
  const b64 = Buffer.from(blob).toString("base64");
  return `-----BEGIN SSH SIGNATURE-----\n${b64.replace(/(.{70})/g, "$1\n")}\n-----END SSH SIGNATURE-----\n`;
}

/** Builds an SSHSIG by hand (to forge what ssh-keygen will not produce: SHA-1 RSA, FIDO keys). */
function buildSshSig(
  pubBlob: Uint8Array,
  sigAlg: string,
  signer: (data: Buffer) => Buffer,
  hash = "sha512",
  namespace = "git",
): string {
  const digest = createHash(hash).update(MESSAGE).digest();
  const toSign = Buffer.concat([
    enc.encode("SSHSIG"),
    sshString(enc.encode(namespace)),
    sshString(new Uint8Array()),
    sshString(enc.encode(hash)),
    sshString(digest),
  ]);
  const sig = Buffer.concat([sshString(enc.encode(sigAlg)), sshString(signer(toSign))]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  return armor(
    Buffer.concat([
      enc.encode("SSHSIG"),
      version,
      sshString(pubBlob),
      sshString(enc.encode(namespace)),
      sshString(new Uint8Array()),
      sshString(enc.encode(hash)),
      sshString(sig),
    ]),
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pullgate-ssh-"));
  ed = keygen("ed", ["-t", "ed25519"]);
  rsaPem = keygen("rsa", ["-t", "rsa", "-b", "2048", "-m", "PEM"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("allowed_signers parsing and matching agree with ssh-keygen", () => {
  it("find-principals and verify give ssh-keygen's answers on tricky files", () => {
    const sig = sshSign(ed.path, MESSAGE);
    const parsed = parseSshSignature(sig);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const keyId = sshKeyIdentity(parsed.sig.publicKeyBlob);
    const files = [
      `a@x ${ed.pub}`,
      `a@x,b@y ${ed.pub} comment here`,
      `"quoted name@x" ${ed.pub}`,
      `# comment\n\n  \tspaced@x\t${ed.pub}`,
      `c@x NAMESPACES="git" ${ed.pub}`,
      `c@x namespaces="file" ${ed.pub}`,
      `c@x namespaces="*" ${ed.pub}`,
      `c@x namespaces="!git,*" ${ed.pub}`,
      `c@x valid-before="20000101" ${ed.pub}\nd@x ${ed.pub}`,
      `c@x valid-after="20990101Z" ${ed.pub}`,
      `c@x valid-after="20000101",valid-before="20990101" ${ed.pub}`,
      `c@x cert-authority ${ed.pub}`,
      `c@x unknown-option ${ed.pub}\ne@x ${ed.pub}`,
      `c@x namespaces="git",namespaces="git" ${ed.pub}`,
      `c@x valid-after="2000" ${ed.pub}`,
      `*@x ${ed.pub}`,
      `*,!bad@x ${ed.pub}`,
      `c@x ${ed.pub}\r\nd@x ${ed.pub}\r\n`,
      `c@x ssh-ed25519 notbase64!! \nd@x ${ed.pub}`,
      `c@x`,
      `first@x namespaces="file" ${ed.pub}\nsecond@x ${ed.pub}`,
      `first@x valid-before="20000101" ${ed.pub}\nsecond@x ${ed.pub}`,
      `first@x,second@x namespaces="file" ${ed.pub}\nsecond@x ${ed.pub}`,
      `c@x ${ed.pub.replace("ssh-ed25519", "ssh-rsa")}`,
    ];
    const now = Math.floor(Date.now() / 1000);
    for (const text of files) {
      const file = parseAllowedSigners(text);
      const ours = findPrincipals(file, keyId, now);
      expect(ours, text).toEqual(sshFindPrincipals(text, sig));
      for (const p of ours) {
        const verified = checkAllowedKey(file, keyId, p, "git", now) !== null;
        expect(verified, `${text} / ${p}`).toBe(sshVerify(text, p, sig, MESSAGE));
      }
    }
  });

  it("matches principal patterns like OpenSSH's match_pattern_list", () => {
    expect(matchPatternList("alice@example.com", "*@example.com")).toBe(1);
    expect(matchPatternList("alice@example.com", "bob@example.com,alice@*")).toBe(1);
    expect(matchPatternList("alice@example.com", "*,!alice@example.com")).toBe(-1);
    expect(matchPatternList("alice@example.com", "?lice@example.com")).toBe(1);
    expect(matchPatternList("alice@example.com", "lice@example.com")).toBe(0);
    expect(matchPatternList("git", "!git")).toBe(-1);
  });

  it("parses absolute times like OpenSSH (Z = UTC; local time read as UTC)", () => {
    expect(parseAbsoluteTime("20200101")).toBe(Date.UTC(2020, 0, 1) / 1000);
    expect(parseAbsoluteTime("202001011230Z")).toBe(Date.UTC(2020, 0, 1, 12, 30) / 1000);
    expect(parseAbsoluteTime("20200101123045UTC")).toBe(Date.UTC(2020, 0, 1, 12, 30, 45) / 1000);
    for (const bad of ["2020", "2020010", "20201301", "notadate", ""])
      expect(parseAbsoluteTime(bad)).toBeNull();
  });

  it("records invalid lines instead of trusting them", () => {
    const file = parseAllowedSigners(`ok@x ${ed.pub}\nbroken line\nc@x bogus="1" ${ed.pub}\n`);
    expect(file.entries.map((e) => e.principals)).toEqual(["ok@x"]);
    expect(file.errors.map((e) => e.line)).toEqual([2, 3]);
  });
});

describe("SSHSIG verification", () => {
  it("refuses RSA/SHA-1 (ssh-rsa) signatures, as ssh-keygen does, and accepts the same construction with rsa-sha2-256", () => {
    const key = createPrivateKey(readFileSync(rsaPem.path));
    const allowed = `r@x ${rsaPem.pub}\n`;
    const file = parseAllowedSigners(allowed);
    const sha256 = buildSshSig(rsaPem.blob, "rsa-sha2-256", (d) => cryptoSign("sha256", d, key));
    const sha1 = buildSshSig(rsaPem.blob, "ssh-rsa", (d) => cryptoSign("sha1", d, key));
    for (const [sig, expected] of [
      [sha256, true],
      [sha1, false],
    ] as const) {
      const parsed = parseSshSignature(sig);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const ok =
        checkSshSignature(parsed.sig, MESSAGE, "git").ok &&
        checkAllowedKey(file, sshKeyIdentity(parsed.sig.publicKeyBlob), "r@x", "git", 0) !== null;
      expect(ok).toBe(expected);
      expect(sshVerify(allowed, "r@x", sig, MESSAGE)).toBe(expected);
    }
    const parsed = parseSshSignature(sha1);
    if (parsed.ok)
      expect(checkSshSignature(parsed.sig, MESSAGE, "git")).toEqual({
        ok: false,
        reason: expect.stringMatching(/SHA-1/),
      });
  });

  it("refuses FIDO security-key and certificate signatures as unsupported, never verified", () => {
    for (const type of [
      "sk-ssh-ed25519@openssh.com",
      "sk-ecdsa-sha2-nistp256@openssh.com",
      "ssh-ed25519-cert-v01@openssh.com",
    ]) {
      const blob = Buffer.concat([sshString(enc.encode(type)), sshString(new Uint8Array(32))]);
      const sig = buildSshSig(blob, type, () => Buffer.alloc(64));
      const parsed = parseSshSignature(sig);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.sig.unsupported).toMatch(/^unsupported/);
      expect(checkSshSignature(parsed.sig, MESSAGE, "git").ok).toBe(false);
    }
  });

  it("verifies sha256-hashed SSHSIGs (ssh-keygen -O hashalg=sha256) as ssh-keygen does", () => {
    const file = join(dir, "msg256");
    writeFileSync(file, MESSAGE);
    rmSync(`${file}.sig`, { force: true });
    execFileSync("ssh-keygen", ["-Y", "sign", "-n", "git", "-O", "hashalg=sha256", "-f", ed.path, file], {
      env,
      stdio: "pipe",
    });
    const sig = readFileSync(`${file}.sig`, "utf8");
    const parsed = parseSshSignature(sig);
    expect(parsed.ok && parsed.sig.hashAlgorithm).toBe("sha256");
    if (!parsed.ok) return;
    expect(checkSshSignature(parsed.sig, MESSAGE, "git").ok).toBe(true);
    expect(sshVerify(`a@x ${ed.pub}\n`, "a@x", sig, MESSAGE)).toBe(true);
    const other = enc.encode("tree y\n\nhello\n");
    expect(checkSshSignature(parsed.sig, other, "git").ok).toBe(
      sshVerify(`a@x ${ed.pub}\n`, "a@x", sig, other),
    );
  });

  it("refuses a signature made for another namespace", () => {
    const sig = sshSign(ed.path, MESSAGE, "file");
    const parsed = parseSshSignature(sig);
    expect(parsed.ok && checkSshSignature(parsed.sig, MESSAGE, "git")).toEqual({
      ok: false,
      reason: expect.stringMatching(/namespace/),
    });
  });

  it("no single-byte change anywhere in a real signature ever verifies", () => {
    const sig = sshSign(ed.path, MESSAGE);
    const blob = Buffer.from(sig.split("\n").slice(1, -2).join(""), "base64");
    fc.assert(
      fc.property(fc.nat(blob.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const mutated = Buffer.from(blob);
        mutated[at] = mutated[at]! ^ xor;
        const parsed = parseSshSignature(armor(mutated));
        if (!parsed.ok) return;
        const good = checkSshSignature(parsed.sig, MESSAGE, "git").ok;
        const sameKey = Buffer.from(parsed.sig.publicKeyBlob).equals(Buffer.from(ed.blob));
        expect(good && sameKey).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary text and bytes never crash the SSHSIG or allowed_signers parsers and never verify", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array({ maxLength: 300 }).map((b) => armor(b)),
        ),
        (text) => {
          const parsed = parseSshSignature(text);
          if (parsed.ok) expect(checkSshSignature(parsed.sig, MESSAGE, "git").ok).toBe(false);
          const file = parseAllowedSigners(text);
          expect(file.entries.length + file.errors.length).toBeLessThanOrEqual(text.split("\n").length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
