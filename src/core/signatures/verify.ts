import { checkAllowedKey, findPrincipals, sshKeyIdentity } from "./allowed-signers.js";
import { commitSha, parseCommit, type ObjectFormat, type ParsedCommit } from "./commit.js";
import type { Keyring } from "./keyring.js";
import { verifyOpenPgp } from "./openpgp.js";
import { checkSshSignature, parseSshSignature } from "./ssh.js";
import type { SignatureFormat, SignatureVerdict } from "./types.js";

export { loadKeyring, keyringDigest, type Keyring, type KeyringSource } from "./keyring.js";

export interface VerifyOptions {
  /** Verification time: OpenPGP key expiry/revocation are judged at this instant (as gpg does with the clock). */
  now: Date;
  objectFormat?: ObjectFormat;
}

/**
 * git's get_format_by_sig: the signature buffer's first bytes name the format. Anything else
 * makes git die ("bad/incompatible signature"), i.e. not verified.
 */
export function signatureFormat(signature: string): SignatureFormat | null {
  if (
    signature.startsWith("-----BEGIN PGP SIGNATURE-----") ||
    signature.startsWith("-----BEGIN PGP MESSAGE-----")
  )
    return "openpgp";
  if (signature.startsWith("-----BEGIN SSH SIGNATURE-----")) return "ssh";
  if (signature.startsWith("-----BEGIN SIGNED MESSAGE-----")) return "x509";
  return null;
}

const SSH_KEY_NAMES: Record<string, string> = {
  "ssh-ed25519": "ED25519",
  "ssh-rsa": "RSA",
  "ecdsa-sha2-nistp256": "ECDSA",
  "ecdsa-sha2-nistp384": "ECDSA",
  "ecdsa-sha2-nistp521": "ECDSA",
};

function looksLikeEmail(principal: string): boolean {
  return /^[^\s@*?!,]+@[^\s@*?!,]+$/.test(principal);
}

function verdict(
  commit: string,
  format: SignatureFormat,
  reason: string,
  extra: Partial<SignatureVerdict> = {},
): SignatureVerdict {
  return {
    commit,
    verified: false,
    format,
    signer: null,
    keyFingerprint: null,
    signerEmail: null,
    reason,
    ...extra,
  };
}

function verifySsh(
  commit: ParsedCommit,
  sha: string,
  signature: string,
  keyring: Keyring,
  now: Date,
): SignatureVerdict {
  // git: "gpg.ssh.allowedSignersFile needs to be configured and exist for ssh signature verification"
  const allowed = keyring.ssh;
  if (allowed === null) return verdict(sha, "ssh", "SSH signature but no allowed_signers file is configured");
  const parsed = parseSshSignature(signature);
  if (!parsed.ok) return verdict(sha, "ssh", parsed.reason);
  const sig = parsed.sig;
  if (sig.unsupported !== null) return verdict(sha, "ssh", sig.unsupported);
  const key = sig.publicKey;
  if (key === null) return verdict(sha, "ssh", "SSH signature without a usable key");
  const fingerprint = key.fingerprint;
  const crypto = checkSshSignature(sig, commit.payload, "git");
  if (!crypto.ok) return verdict(sha, "ssh", crypto.reason, { keyFingerprint: fingerprint });
  // git passes the committer date as ssh-keygen's verify-time: allowed_signers validity windows
  // are judged at commit time, not now.
  const verifyTime = commit.committerTime ?? Math.floor(now.getTime() / 1000);
  const keyId = sshKeyIdentity(sig.publicKeyBlob);
  const principals = findPrincipals(allowed, keyId, verifyTime);
  if (principals.length === 0) {
    const listed = allowed.entries.some((e) => e.keyId === keyId && !e.certAuthority);
    return verdict(
      sha,
      "ssh",
      listed
        ? `SSH key ${fingerprint} is in allowed_signers but not valid at the commit time (valid-after/valid-before)`
        : `good SSH signature by unknown key ${fingerprint} (not in allowed_signers)`,
      { keyFingerprint: fingerprint },
    );
  }
  const verifiedPrincipals = principals.filter(
    (p) => checkAllowedKey(allowed, keyId, p, "git", verifyTime) !== null,
  );
  const principal = verifiedPrincipals[0];
  if (principal === undefined)
    return verdict(
      sha,
      "ssh",
      `SSH key ${fingerprint} is not allowed to sign in namespace "git" for ${principals.join(", ")}`,
      {
        keyFingerprint: fingerprint,
      },
    );
  const signer = `${principal} (${SSH_KEY_NAMES[key.type] ?? key.type} ${fingerprint})`;
  const emails = verifiedPrincipals.filter(looksLikeEmail);
  return {
    commit: sha,
    verified: true,
    format: "ssh",
    signer,
    keyFingerprint: fingerprint,
    signerEmail: looksLikeEmail(principal) ? principal : (emails[0] ?? null),
    signerEmails: emails,
    reason: `good SSH signature by ${signer}`,
  };
}

/**
 * Judges one raw commit object's signature against a keyring, agreeing with `git verify-commit`
 * (see README.md in this folder for the exact rules). Never throws for bad input: malformed
 * objects and signatures are unverified verdicts with a reason.
 */
export async function verifyCommitSignature(
  raw: Uint8Array,
  keyring: Keyring,
  opts: VerifyOptions,
): Promise<SignatureVerdict> {
  return (await verifyCommitSignatureDetailed(raw, keyring, opts)).verdict;
}

export interface DetailedVerdict {
  verdict: SignatureVerdict;
  /**
   * Until when (ms since the epoch) the verdict holds with the same keyring: a good OpenPGP
   * verdict ends when the key, the signing subkey or the signature expires (gpg judges expiry
   * at verification time). SSH verdicts are judged at the commit time, so they do not age.
   */
  validUntil: number;
}

/** verifyCommitSignature plus how long its verdict may be cached (see VerdictCache). */
export async function verifyCommitSignatureDetailed(
  raw: Uint8Array,
  keyring: Keyring,
  opts: VerifyOptions,
): Promise<DetailedVerdict> {
  const timeless = (v: SignatureVerdict): DetailedVerdict => ({ verdict: v, validUntil: Infinity });
  const format = opts.objectFormat ?? "sha1";
  const sha = commitSha(raw, format);
  const parsed = parseCommit(raw, format);
  if (!parsed.ok) return timeless(verdict(sha, "none", parsed.reason));
  const commit = parsed.commit;
  if (commit.signature === null) return timeless(verdict(sha, "none", "no signature"));
  // Armored signatures are ASCII; latin1 keeps every byte so nothing is silently replaced.
  const signature = Buffer.from(commit.signature).toString("latin1");
  const kind = signatureFormat(signature);
  if (kind === null)
    return timeless(verdict(sha, "none", "signature in an unknown format (git: bad/incompatible signature)"));
  if (kind === "x509") return timeless(verdict(sha, "x509", "unsupported X.509/S/MIME (gitsign) signature"));
  if (kind === "ssh") return timeless(verifySsh(commit, sha, signature, keyring, opts.now));
  try {
    const result = await verifyOpenPgp(commit.payload, signature, keyring.openpgp, opts.now);
    return {
      verdict: {
        commit: sha,
        verified: result.verified,
        format: "openpgp",
        signer:
          result.verified && result.fingerprint !== null
            ? `${result.fingerprint}${result.userId === null ? "" : ` ${result.userId}`}`
            : null,
        keyFingerprint: result.fingerprint,
        signerEmail: result.verified ? result.email : null,
        signerEmails: result.verified ? result.emails : [],
        reason: result.reason,
      },
      validUntil: result.validUntil,
    };
  } catch (error) {
    // openpgp.js throwing on hostile input must never escape as a pass (or as a crash).
    return timeless(
      verdict(
        sha,
        "openpgp",
        `OpenPGP verification error: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
}
