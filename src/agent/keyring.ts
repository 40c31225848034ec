/** Reads the pinned keyring for --keys: one armored .asc file, or every .asc file in a folder. */

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export class KeyringError extends Error {
  override readonly name = "KeyringError";
}

export async function readKeyringPath(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new KeyringError(`cannot read keys at ${path}: ${(error as Error).message}`);
  }
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((name) => name.endsWith(".asc"))
        .sort()
        .map((name) => join(path, name))
    : [path];
  const texts: string[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8");
    if (text.includes("PRIVATE KEY BLOCK"))
      throw new KeyringError(`${file} holds a private key; pin public keys only`);
    if (text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) texts.push(text);
  }
  if (texts.length === 0) throw new KeyringError(`no armored OpenPGP public key found at ${path}`);
  return texts;
}
