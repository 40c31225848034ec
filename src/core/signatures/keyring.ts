import { createHash } from "node:crypto";
import { readKeys, type Key, type PublicKey } from "openpgp";
import { parseAllowedSigners, type AllowedSignersFile } from "./allowed-signers.js";

/**
 * The trusted keys a commit is judged against, parsed once: OpenPGP public keys (several per
 * armored text, several texts) and one SSH allowed_signers file. Like `gpg --import`, keys with
 * the same fingerprint from several texts are merged (so a separately published revocation or
 * new expiry date applies). Unreadable texts are recorded in `errors`, never silently trusted:
 * their keys are simply absent, so commits they signed fail (fail closed).
 */
export interface Keyring {
  openpgp: PublicKey[];
  ssh: AllowedSignersFile | null;
  errors: string[];
  /** sha256:<hex> over the canonical key material, see keyringDigest. */
  digest: string;
}

export interface KeyringSource {
  /** Armored OpenPGP key texts (each may hold several keys). */
  openpgp: string[];
  /** The allowed_signers file text, or null. */
  sshAllowedSigners: string | null;
}

/** openpgp.js v6 has Key#applyRevocationCertificate at runtime but leaves it out of its .d.ts. */
interface RevocableKey {
  applyRevocationCertificate(certificate: string): Promise<PublicKey>;
}

function asPublic(key: Key): PublicKey {
  return key.isPrivate() ? key.toPublic() : (key as PublicKey);
}

export async function loadKeyring(source: KeyringSource): Promise<Keyring> {
  const errors: string[] = [];
  const byFingerprint = new Map<string, PublicKey>();
  const notKeys: Array<{ index: number; text: string; error: string }> = [];
  for (const [index, text] of source.openpgp.entries()) {
    // readKeys decodes the first armored block only, as Flux (go-crypto) and `pullgate verify` do:
    // say so rather than ignore a concatenated second key silently (docs/agents.md).
    const blocks = text.split("-----BEGIN PGP PUBLIC KEY BLOCK-----").length - 1;
    if (blocks > 1)
      errors.push(
        `OpenPGP key text #${index + 1}: holds ${blocks} armored key blocks; only the first is read (put one block per file)`,
      );
    let keys: Key[];
    try {
      keys = await readKeys({ armoredKeys: text });
    } catch (error) {
      notKeys.push({ index, text, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const read of keys) {
      if (read.isPrivate())
        errors.push(
          `OpenPGP key text #${index + 1}: contains a PRIVATE key ${read.getFingerprint().toUpperCase()} (only its public part is used)`,
        );
      const key = asPublic(read);
      const fingerprint = key.getFingerprint().toUpperCase();
      const existing = byFingerprint.get(fingerprint);
      if (existing === undefined) byFingerprint.set(fingerprint, key);
      else {
        try {
          byFingerprint.set(fingerprint, (await existing.update(key)) as PublicKey);
        } catch (error) {
          errors.push(
            `OpenPGP key ${fingerprint}: cannot merge copies: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
  }
  // A text that holds no key may be a standalone revocation certificate (what gpg writes to
  // openpgp-revocs.d and `gpg --gen-revoke` prints): gpg applies it on import, so must we, or a
  // revoked key would stay trusted here while git refuses it.
  for (const { index, text, error } of notKeys) {
    let applied = false;
    for (const [fingerprint, key] of byFingerprint) {
      try {
        byFingerprint.set(
          fingerprint,
          await (key as unknown as RevocableKey).applyRevocationCertificate(text),
        );
        applied = true;
        break;
      } catch {
        // not this key's revocation
      }
    }
    if (!applied)
      errors.push(
        `OpenPGP key text #${index + 1}: not a key nor a revocation certificate of a known key (${error})`,
      );
  }
  const ssh = source.sshAllowedSigners === null ? null : parseAllowedSigners(source.sshAllowedSigners);
  for (const e of ssh?.errors ?? []) errors.push(`allowed_signers line ${e.line}: ${e.message}`);
  const openpgp = [...byFingerprint.values()];
  return { openpgp, ssh, errors, digest: keyringDigest({ openpgp, ssh }) };
}

/**
 * sha256 over the canonical, sorted key material: every OpenPGP key's packets (self-signatures,
 * revocations and all: anything that can change a verdict) and every valid allowed_signers entry
 * (principals, options, key). Two keyrings with the same digest give the same verdicts.
 */
export function keyringDigest(keyring: Pick<Keyring, "openpgp" | "ssh">): string {
  const items: string[] = [];
  for (const key of keyring.openpgp)
    items.push("openpgp:" + createHash("sha256").update(key.write()).digest("hex"));
  for (const e of keyring.ssh?.entries ?? []) {
    items.push(
      "ssh:" +
        JSON.stringify([
          e.line,
          e.principals,
          e.certAuthority,
          e.namespaces,
          e.validAfter,
          e.validBefore,
          e.keyType,
          Buffer.from(e.keyBlob).toString("base64"),
        ]),
    );
  }
  // allowed_signers order matters (first matching line wins), so entries keep their line numbers.
  items.sort();
  return "sha256:" + createHash("sha256").update(items.join("\n")).digest("hex");
}
