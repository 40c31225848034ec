/**
 * The app's record-signing key: OpenPGP v4, EdDSA on the "legacy" ed25519 curve (DESIGN.md §3), the
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

/** Reads every public key in one or more armored blocks (a keyring file may hold several). */
export async function readPublicKeys(armored: string[]): Promise<openpgp.Key[]> {
  const keys: openpgp.Key[] = [];
  for (const text of armored) {
    // Several concatenated armored blocks are common in .asc keyring files: read each block.
    const blocks = text.match(
      /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g,
    );
    if (blocks === null) throw new Error("no armored OpenPGP public key block found");
    for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
  }
  return keys;
}

export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}
