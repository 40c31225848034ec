/**
 * The app's record-signing key: OpenPGP v4, EdDSA on the "legacy" ed25519 curve (docs/architecture.md, "Record contract"), the
 * newest form GnuPG 2.2 still imports (it knows neither RFC 9580 v6 keys nor algorithm id 27).
 */

import * as openpgp from "openpgp";

export interface GeneratedKeyPair {
  /** Armored private key (encrypted when a passphrase was given). */
  privateKey: string;
  /** Armored public key, for Flux / Argo CD / `pullgate verify --keys`. */
  publicKey: string;
  /** Uppercase hex primary key fingerprint: the value of the Pullgate-Key trailer. */
  fingerprint: string;
}

/** v4 keys only: the default of openpgp.js v6, pinned so a config change can never produce v6 keys. */
const V4_CONFIG = { v6Keys: false } as const;

export async function generateRecordKey(options: {
  name: string;
  email: string;
  passphrase?: string;
  /** Creation time (tests pin it); defaults to now. */
  date?: Date;
}): Promise<GeneratedKeyPair> {
  const generated = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: options.name, email: options.email }],
    format: "armored",
    config: V4_CONFIG,
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.date === undefined ? {} : { date: options.date }),
  });
  const key = await openpgp.readKey({ armoredKey: generated.publicKey });
  return {
    privateKey: generated.privateKey,
    publicKey: generated.publicKey,
    fingerprint: key.getFingerprint().toUpperCase(),
  };
}

/** Reads an armored private key, decrypting it with the passphrase when it is encrypted. */
export async function loadSigningKey(armoredKey: string, passphrase?: string): Promise<openpgp.PrivateKey> {
  const key = await openpgp.readPrivateKey({ armoredKey });
  if (key.isDecrypted()) return key;
  if (passphrase === undefined) throw new Error("the signing key is encrypted and no passphrase was given");
  return openpgp.decryptKey({ privateKey: key, passphrase });
}

const PUBLIC_KEY_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;

/**
 * Reads the public keys of each armored text (a keyring file, a Secret value): every key in its
 * FIRST armored block, as Flux (go-git's Commit.Verify: go-crypto's ReadArmoredKeyRing decodes one
 * armor block) and `pullgate verify-commit` (openpgp.js readKeys) read it. A second block
 * concatenated after the first is ignored by all three (docs/agents.md, "one key per Secret
 * value"); several keys go in one block (`gpg --export --armor A B`) or in several files.
 */
export async function readPublicKeys(armored: string[]): Promise<openpgp.Key[]> {
  const keys: openpgp.Key[] = [];
  for (const text of armored) {
    const [first] = text.match(PUBLIC_KEY_BLOCK) ?? [];
    if (first === undefined) throw new Error("no armored OpenPGP public key block found");
    keys.push(...(await openpgp.readKeys({ armoredKeys: first })));
  }
  return keys;
}

/**
 * The keys in the armored blocks readPublicKeys ignores (after the first of a text), with the
 * text's index: only to explain a refusal ("that key is in your file, but in a second block").
 * Unreadable blocks are skipped.
 */
export async function ignoredPublicKeys(armored: string[]): Promise<{ text: number; key: openpgp.Key }[]> {
  const found: { text: number; key: openpgp.Key }[] = [];
  for (const [index, text] of armored.entries()) {
    for (const block of (text.match(PUBLIC_KEY_BLOCK) ?? []).slice(1)) {
      try {
        for (const key of await openpgp.readKeys({ armoredKeys: block })) found.push({ text: index, key });
      } catch {
        // not readable: nothing to explain with it
      }
    }
  }
  return found;
}

/** How many armored public key blocks each text holds (more than one: all but the first are ignored). */
export function armoredKeyBlockCounts(armored: string[]): number[] {
  return armored.map((text) => (text.match(PUBLIC_KEY_BLOCK) ?? []).length);
}

export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}
