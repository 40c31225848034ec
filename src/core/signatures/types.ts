/** How a commit was signed (the verify-commit contract's "format"). */
export type SignatureFormat = "openpgp" | "ssh" | "x509" | "none";

/** The verdict on one commit's signature against a keyring. Immutable per (commit SHA, keyring digest). */
export interface SignatureVerdict {
  commit: string;
  verified: boolean;
  format: SignatureFormat;
  /**
   * Who signed: for OpenPGP "FINGERPRINT User ID", for SSH "principal (KEYTYPE SHA256:...)";
   * null when there is no valid signature by a known key.
   */
  signer: string | null;
  /** OpenPGP primary key fingerprint (uppercase hex) or SSH key fingerprint (SHA256:...), when known. */
  keyFingerprint: string | null;
  /** Email of the signer identity (OpenPGP user ID email / SSH principal), when known. */
  signerEmail: string | null;
  /**
   * Every identity the signer may be matched on (all valid user ID emails of the OpenPGP key /
   * every allowed_signers principal that verified); optional extension, absent means [signerEmail].
   */
  signerEmails?: string[];
  /** Human-readable reason: "good signature by ...", "no signature", "signed by unknown key ...", "key expired", ... */
  reason: string;
}
