/**
 * Unit and property tests of the keyring, the verdict cache and verifyCommitSignature, with keys
 * and signatures made by openpgp.js (the differential tests against gpg live in
 * differential.test.ts).
 */
import fc from "fast-check";
import { createMessage, generateKey, readPrivateKey, revokeKey, sign, type PrivateKey } from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import { VerdictCache, verifyCached } from "../../src/core/signatures/cache.js";
import { insertSignatureHeader, splitSignedPayload } from "../../src/core/signatures/commit.js";
import { loadKeyring, type Keyring } from "../../src/core/signatures/keyring.js";
import { verifyCommitSignature } from "../../src/core/signatures/verify.js";

const enc = new TextEncoder();
const NOW = new Date("2026-01-01T00:00:00Z");
const PAYLOAD = enc.encode(
  "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Alice <alice@example.com> 1767225600 +0000\ncommitter Alice <alice@example.com> 1767225600 +0000\n\nA change\n",
);

let alice: { privateKey: string; publicKey: string; revocationCertificate: string };
let bob: { privateKey: string; publicKey: string; revocationCertificate: string };
let alicePriv: PrivateKey;
let signedRaw: Uint8Array;
let keyring: Keyring;

async function signCommit(
  payload: Uint8Array,
  key: PrivateKey,
  date = new Date("2025-12-01T00:00:00Z"),
): Promise<Uint8Array> {
  const signature = await sign({
    message: await createMessage({ binary: payload }),
    signingKeys: key,
    detached: true,
    date,
    format: "armored",
  });
  return insertSignatureHeader(payload, enc.encode(signature as string));
}

beforeAll(async () => {
  const date = new Date("2025-01-01T00:00:00Z");
  alice = await generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "Alice", email: "alice@example.com" }],
    date,
    format: "armored",
  });
  bob = await generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "Bob", email: "bob@example.com" }],
    date,
    format: "armored",
  });
  alicePriv = await readPrivateKey({ armoredKey: alice.privateKey });
  signedRaw = await signCommit(PAYLOAD, alicePriv);
  keyring = await loadKeyring({ openpgp: [alice.publicKey, bob.publicKey], sshAllowedSigners: null });
});

describe("keyring", () => {
  it("has an order-independent digest that changes with any key material", async () => {
    const reversed = await loadKeyring({
      openpgp: [bob.publicKey, alice.publicKey],
      sshAllowedSigners: null,
    });
    expect(reversed.digest).toBe(keyring.digest);
    expect(keyring.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const revoked = await loadKeyring({
      openpgp: [alice.publicKey, bob.publicKey, alice.revocationCertificate],
      sshAllowedSigners: null,
    });
    expect(revoked.digest).not.toBe(keyring.digest);
    const withSsh = await loadKeyring({
      openpgp: [alice.publicKey, bob.publicKey],
      sshAllowedSigners:
        "a@x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICMp1UmG8ERAv6CROhqIfgJPnJ1RaA5GYIy6sNeCJigq\n",
    });
    const withSshNs = await loadKeyring({
      openpgp: [alice.publicKey, bob.publicKey],
      sshAllowedSigners:
        'a@x namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICMp1UmG8ERAv6CROhqIfgJPnJ1RaA5GYIy6sNeCJigq\n',
    });
    expect(new Set([keyring.digest, withSsh.digest, withSshNs.digest]).size).toBe(3);
  });

  it("records unreadable texts and private keys instead of trusting or hiding them", async () => {
    const k = await loadKeyring({ openpgp: ["not a key", alice.privateKey], sshAllowedSigners: null });
    expect(k.openpgp).toHaveLength(1);
    expect(k.openpgp[0]!.isPrivate()).toBe(false);
    expect(k.errors.join("\n")).toMatch(/#1: not a key nor a revocation certificate/);
    expect(k.errors.join("\n")).toMatch(/#2: contains a PRIVATE key/);
  });

  it("applies a revocation published separately, and a key copy carrying a revocation, as gpg --import does", async () => {
    const separate = await loadKeyring({
      openpgp: [alice.publicKey, alice.revocationCertificate],
      sshAllowedSigners: null,
    });
    const v1 = await verifyCommitSignature(signedRaw, separate, { now: NOW });
    expect(v1).toMatchObject({ verified: false, reason: expect.stringMatching(/revoked/) });
    const { publicKey: revokedCopy } = await revokeKey({ key: alicePriv, format: "armored" });
    const merged = await loadKeyring({ openpgp: [alice.publicKey, revokedCopy], sshAllowedSigners: null });
    expect(merged.openpgp).toHaveLength(1);
    expect((await verifyCommitSignature(signedRaw, merged, { now: NOW })).verified).toBe(false);
  });
});

describe("verifyCommitSignature", () => {
  it("verifies an openpgp.js ed25519 (v4, legacy curve) signature and names the signer", async () => {
    const v = await verifyCommitSignature(signedRaw, keyring, { now: NOW });
    const fpr = alicePriv.getFingerprint().toUpperCase();
    expect(v).toMatchObject({
      verified: true,
      format: "openpgp",
      keyFingerprint: fpr,
      signer: `${fpr} Alice <alice@example.com>`,
      signerEmail: "alice@example.com",
    });
  });

  it("fails without the key, and with another key's keyring", async () => {
    const onlyBob = await loadKeyring({ openpgp: [bob.publicKey], sshAllowedSigners: null });
    expect(await verifyCommitSignature(signedRaw, onlyBob, { now: NOW })).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/unknown key/),
    });
  });

  it("an SSH signature with no allowed_signers configured is not verified", async () => {
    const raw = insertSignatureHeader(
      PAYLOAD,
      enc.encode("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"),
    );
    expect(await verifyCommitSignature(raw, keyring, { now: NOW })).toMatchObject({
      verified: false,
      format: "ssh",
      reason: expect.stringMatching(/no allowed_signers/),
    });
  });

  it("changing any byte of the signed payload never verifies", async () => {
    const { payload } = splitSignedPayload(signedRaw);
    const sigStart = Buffer.from(signedRaw).indexOf("gpgsig ");
    const sigEnd = sigStart + (signedRaw.length - payload.length);
    await fc.assert(
      fc.asyncProperty(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const mutated = Uint8Array.from(signedRaw);
        const index = at < sigStart ? at : at + (sigEnd - sigStart);
        mutated[index] = mutated[index]! ^ xor;
        const v = await verifyCommitSignature(mutated, keyring, { now: NOW });
        expect(v.verified).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("arbitrary bytes never throw and never verify", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        const v = await verifyCommitSignature(bytes, keyring, { now: NOW });
        expect(v.verified).toBe(false);
        expect(v.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it("commit-shaped noise around real signature material never verifies", async () => {
    const { signature } = splitSignedPayload(signedRaw);
    const sigText = Buffer.from(signature!).toString("latin1");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.nat(sigText.length), async (message, cut) => {
        const payload = enc.encode(
          `tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\n${message}`,
        );
        const raw = insertSignatureHeader(payload, enc.encode(sigText.slice(0, cut)));
        expect((await verifyCommitSignature(raw, keyring, { now: NOW })).verified).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe("verdict cache", () => {
  const verdict = (commit: string) => ({
    commit,
    verified: true,
    format: "openpgp" as const,
    signer: "x",
    keyFingerprint: "X",
    signerEmail: null,
    reason: "good",
  });

  it("is keyed by commit and keyring digest, bounded, least recently used out first", () => {
    const cache = new VerdictCache(2);
    cache.set("a", "d1", verdict("a"));
    cache.set("b", "d1", verdict("b"));
    expect(cache.get("a", "d2")).toBeUndefined();
    expect(cache.get("a", "d1")?.commit).toBe("a");
    cache.set("c", "d1", verdict("c"));
    expect(cache.size).toBe(2);
    expect(cache.get("b", "d1")).toBeUndefined();
    expect(cache.get("a", "d1")?.commit).toBe("a");
  });

  it("does not serve an entry past its validUntil", () => {
    const cache = new VerdictCache();
    cache.set("a", "d", verdict("a"), Date.parse("2026-01-01T00:00:00Z"));
    expect(cache.get("a", "d", new Date("2025-12-31T00:00:00Z"))).toBeDefined();
    expect(cache.get("a", "d", new Date("2026-01-02T00:00:00Z"))).toBeUndefined();
  });

  it("refuses a nonsensical bound", () => {
    expect(() => new VerdictCache(0)).toThrow(RangeError);
  });
});

describe("verifyCached", () => {
  it("serves a good verdict until the key expires, then verifies again (and fails)", async () => {
    const created = new Date("2025-01-01T00:00:00Z");
    const expiring = await generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "Carol", email: "carol@example.com" }],
      date: created,
      keyExpirationTime: 365 * 24 * 3600,
      format: "object",
    });
    const raw = await signCommit(PAYLOAD, expiring.privateKey, new Date("2025-06-01T00:00:00Z"));
    const ring = await loadKeyring({ openpgp: [expiring.publicKey.armor()], sshAllowedSigners: null });
    const cache = new VerdictCache();
    const before = new Date("2025-07-01T00:00:00Z");
    const first = await verifyCached(cache, raw, ring, { now: before });
    expect(first.verified).toBe(true);
    expect(await verifyCached(cache, raw, ring, { now: before })).toBe(first);
    const after = new Date("2026-06-01T00:00:00Z");
    const later = await verifyCached(cache, raw, ring, { now: after });
    expect(later).toMatchObject({ verified: false, reason: expect.stringMatching(/expired/) });
  });

  it("never serves a verdict across keyrings", async () => {
    const cache = new VerdictCache();
    expect((await verifyCached(cache, signedRaw, keyring, { now: NOW })).verified).toBe(true);
    const onlyBob = await loadKeyring({ openpgp: [bob.publicKey], sshAllowedSigners: null });
    expect((await verifyCached(cache, signedRaw, onlyBob, { now: NOW })).verified).toBe(false);
  });
});
