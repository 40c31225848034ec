import * as openpgp from "openpgp";
import type { ParsedCommit } from "../git/objects.js";
import { verifySshSignature, type SshSigner } from "./ssh.js";

/** GitHub's `verification` object on commits. */
export interface Verification {
  verified: boolean;
  reason: string;
  signature: string | null;
  payload: string | null;
  verified_at: string | null;
}

/** A key the sandbox knows, and whose commits it may call verified. */
export interface KnownKey {
  key: openpgp.PublicKey;
  /** Committer emails this key may verify (the owner's emails; noreply@github.com for web-flow). */
  emails: string[];
}

/**
 * GitHub's verification badge, modelled simply: an OpenPGP signature is "valid" when it verifies
 * against a key the sandbox knows (web-flow, or keys registered with POST /user/gpg_keys) whose
 * owner's emails include the committer email; otherwise "unknown_key", "unverified_email",
 * "invalid" or "malformed_signature". An SSH signature is "valid" when it verifies with an SSH
 * signing key (POST /user/ssh_signing_keys) of a user whose email is the committer email, and
 * "unknown_key" otherwise.
 * pullgate does not trust this badge; it verifies signatures itself.
 */
export async function verifyCommit(
  commit: ParsedCommit,
  keys: KnownKey[],
  verifiedAt: string,
  sshSigners: SshSigner[] = [],
): Promise<Verification> {
  if (commit.signature === null) {
    return { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };
  }
  const base = { signature: commit.signature, payload: commit.payload };
  const fail = (reason: string): Verification => ({ verified: false, reason, ...base, verified_at: null });
  if (commit.signature.startsWith("-----BEGIN SSH SIGNATURE-----")) {
    if (await verifySshSignature(commit.payload, commit.signature, commit.committer.email, sshSigners))
      return { verified: true, reason: "valid", ...base, verified_at: verifiedAt };
    return fail("unknown_key");
  }
  if (!commit.signature.startsWith("-----BEGIN PGP SIGNATURE-----")) return fail("unknown_signature_type");
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: commit.signature });
  } catch {
    return fail("malformed_signature");
  }
  const ids = signature.getSigningKeyIDs();
  const candidates = keys.filter((k) => ids.some((id) => k.key.getKeys(id).length > 0));
  if (candidates.length === 0) return fail("unknown_key");
  for (const candidate of candidates) {
    try {
      const message = await openpgp.createMessage({ binary: Buffer.from(commit.payload, "utf8") });
      const result = await openpgp.verify({
        message,
        signature,
        verificationKeys: candidate.key,
        format: "binary",
      });
      const first = result.signatures[0];
      if (first === undefined) continue;
      await first.verified;
      if (!candidate.emails.map((e) => e.toLowerCase()).includes(commit.committer.email.toLowerCase()))
        return fail("unverified_email");
      return { verified: true, reason: "valid", ...base, verified_at: verifiedAt };
    } catch {
      /* try the next key that claims this id */
    }
  }
  return fail("invalid");
}
