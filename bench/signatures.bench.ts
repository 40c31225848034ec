/**
 * Commit-signature verification throughput of the pure core (src/core/signatures): how many
 * commits per second one evaluation can judge. A PR has up to 250 commits (GitHub's listing cap)
 * and every synchronize re-evaluates it, so verification must stay far below the network's cost.
 *
 * Inputs are made once, in process: an OpenPGP v4 ed25519 key (openpgp.js, the gpg default curve
 * and the app's own record key type) and an SSH ed25519 key (node:crypto, SSHSIG built by hand in
 * OpenSSH's wire format), each signing COMMITS distinct commit objects laid out as git writes them.
 * Every verdict is checked to be "verified" before anything is timed.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import * as openpgp from "openpgp";
import { VerdictCache, verifyCached } from "../src/core/signatures/cache.js";
import { loadKeyring, verifyCommitSignature, type Keyring } from "../src/core/signatures/verify.js";
import { buildRawCommit, insertGpgsig } from "../src/record/commit.js";
import { signCommitPayload } from "../src/record/sign.js";
import { atLeast, bestOfMsAsync, type BenchResult } from "./result.js";

/** Distinct commits per format: enough that one run is tens of milliseconds, not microseconds. */
export const COMMITS = 40;

const IDENTITY = { name: "Bench Signer", email: "signer@example.test", timezone: "+0000" };

function unsignedCommit(i: number): string {
  const timestamp = 1_760_000_000 + i * 60;
  return buildRawCommit({
    tree: createHash("sha1").update(`tree ${i}`).digest("hex"),
    parents: [createHash("sha1").update(`parent ${i}`).digest("hex")],
    author: { ...IDENTITY, timestamp },
    committer: { ...IDENTITY, timestamp },
    message: `Bump service ${i} to v1.${i}.0\n\nSigned commit ${i} of the signature benchmark.\n`,
  });
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

async function openpgpCommits(): Promise<{ commits: Uint8Array[]; keyring: Keyring }> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: IDENTITY.name, email: IDENTITY.email }],
    format: "armored",
    config: { v6Keys: false },
    date: new Date(1_700_000_000_000),
  });
  const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
  const commits: Uint8Array[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const raw = unsignedCommit(i);
    const signature = await signCommitPayload(raw, key, new Date((1_760_000_000 + i * 60) * 1000));
    commits.push(encode(insertGpgsig(raw, signature)));
  }
  return { commits, keyring: await loadKeyring({ openpgp: [publicKey], sshAllowedSigners: null }) };
}

/** RFC 4251 `string`: uint32 length, then the bytes. */
function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The raw 32-byte ed25519 public key (the last 32 bytes of its SPKI DER). */
function ed25519PublicBytes(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" }).subarray(-32);
}

/** An armored SSHSIG (OpenSSH PROTOCOL.sshsig) over `message` in namespace "git", sha512. */
function sshsig(message: string, privateKey: KeyObject, publicBlob: Buffer): string {
  const namespace = "git";
  const hash = createHash("sha512").update(message, "utf8").digest();
  const signedData = Buffer.concat([
    Buffer.from("SSHSIG"),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(hash),
  ]);
  const signature = Buffer.concat([sshString("ssh-ed25519"), sshString(sign(null, signedData, privateKey))]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    Buffer.from("SSHSIG"),
    version,
    sshString(publicBlob),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(signature),
  ]);
  const base64 = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN SSH SIGNATURE-----", ...base64, "-----END SSH SIGNATURE-----"].join("\n");
}

async function sshCommits(): Promise<{ commits: Uint8Array[]; keyring: Keyring }> {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(ed25519PublicBytes(publicKey))]);
  const allowedSigners = `${IDENTITY.email} namespaces="git" ssh-ed25519 ${publicBlob.toString("base64")}\n`;
  const commits: Uint8Array[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const raw = unsignedCommit(i);
    commits.push(encode(insertGpgsig(raw, sshsig(raw, privateKey, publicBlob))));
  }
  return { commits, keyring: await loadKeyring({ openpgp: [], sshAllowedSigners: allowedSigners }) };
}

/** Verifies every commit once; throws unless each one verified (a fast "no" would measure nothing). */
async function verifyAll(commits: Uint8Array[], keyring: Keyring, now: Date, label: string): Promise<void> {
  for (const raw of commits) {
    const verdict = await verifyCommitSignature(raw, keyring, { now });
    if (!verdict.verified) throw new Error(`${label}: a benchmark commit did not verify: ${verdict.reason}`);
  }
}

/** Commits per second, from the best of `runs` passes over all commits. */
async function throughput(commits: Uint8Array[], pass: () => Promise<void>, runs: number): Promise<number> {
  const ms = await bestOfMsAsync(pass, runs, 1);
  return (commits.length / ms) * 1000;
}

export async function benchSignatures(): Promise<BenchResult[]> {
  const now = new Date(1_770_000_000_000);
  const pgp = await openpgpCommits();
  const ssh = await sshCommits();
  await verifyAll(pgp.commits, pgp.keyring, now, "openpgp");
  await verifyAll(ssh.commits, ssh.keyring, now, "ssh");

  const pgpPerSecond = await throughput(
    pgp.commits,
    () => verifyAll(pgp.commits, pgp.keyring, now, "openpgp"),
    10,
  );
  const sshPerSecond = await throughput(
    ssh.commits,
    () => verifyAll(ssh.commits, ssh.keyring, now, "ssh"),
    // A pass is ~10 ms: more of them, so one quiet moment on the loaded machine is enough.
    30,
  );

  // Re-evaluation: the same commits against the same keyring come from the verdict cache.
  const cache = new VerdictCache();
  const both = [
    ...pgp.commits.map((raw) => ({ raw, keyring: pgp.keyring })),
    ...ssh.commits.map((raw) => ({ raw, keyring: ssh.keyring })),
  ];
  const cachedPass = async () => {
    for (const { raw, keyring } of both) {
      const verdict = await verifyCached(cache, raw, keyring, { now });
      if (!verdict.verified) throw new Error(`cached: a benchmark commit did not verify: ${verdict.reason}`);
    }
  };
  await cachedPass();
  const cachedPerSecond = (both.length / (await bestOfMsAsync(cachedPass, 20, 2))) * 1000;

  return [
    atLeast("signatures.openpgp_ed25519_verify", pgpPerSecond, "commits/s", 200),
    atLeast("signatures.ssh_ed25519_verify", sshPerSecond, "commits/s", 1000),
    atLeast("signatures.cached_reverify", cachedPerSecond, "commits/s", 50_000),
  ];
}
