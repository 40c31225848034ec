import { CODEOWNERS_LOCATIONS } from "../core/codeowners/locate.js";
import type { KeyringTexts, SourceText } from "../core/gate/facts.js";
import type { FileSource } from "./file-source.js";
import { FactsError } from "./octokit.js";

/** A file read at the base SHA ("owner/repo@sha:path" for messages): the facts port's type. */
export type SourceFile = SourceText;

/** Reads the first CODEOWNERS GitHub would use (its lookup order); all three are asked at once to save round trips. */
export async function readCodeowners(source: FileSource): Promise<SourceFile | null> {
  const texts = await Promise.all(CODEOWNERS_LOCATIONS.map((p) => source.readFile(p)));
  for (const [i, text] of texts.entries()) {
    const path = CODEOWNERS_LOCATIONS[i] as string;
    if (text !== null) return { file: `${source.label}:${path}`, path, text };
  }
  return null;
}

/** The keyring files the policy names, read at the base SHA: the facts port's type. */
export type KeyringFiles = KeyringTexts;

/**
 * Reads the keyring the policy names: each OpenPGP entry is a `.asc` file or a folder of them; the
 * SSH entry is an allowed_signers file. A named keyring that does not exist is an error with that
 * reason, rather than an empty keyring whose failures would send authors looking in the wrong place.
 */
export async function readKeyring(
  source: FileSource,
  openpgpPaths: string[],
  sshAllowedSigners: string | null,
  signerLoginsPath: string | null = null,
): Promise<KeyringFiles> {
  const openpgp = (
    await Promise.all(
      openpgpPaths.map(async (path): Promise<SourceFile[]> => {
        const clean = path.replace(/^\/+|\/+$/g, "");
        if (clean.endsWith(".asc")) {
          const text = await source.readFile(clean);
          if (text === null)
            throw new FactsError(`keyring ${clean} named by the policy does not exist in ${source.label}`);
          return [{ file: `${source.label}:${clean}`, path: clean, text }];
        }
        const files = await source.listFiles(clean);
        if (files === null)
          throw new FactsError(
            `keyring folder ${clean} named by the policy does not exist in ${source.label}`,
          );
        const keys = files.filter((f) => f.endsWith(".asc"));
        const texts = await Promise.all(keys.map((f) => source.readFile(f)));
        return keys.map((f, i) => ({ file: `${source.label}:${f}`, path: f, text: texts[i] ?? "" }));
      }),
    )
  ).flat();
  let ssh: SourceFile | null = null;
  if (sshAllowedSigners !== null) {
    const text = await source.readFile(sshAllowedSigners);
    if (text === null) {
      throw new FactsError(
        `SSH allowed_signers ${sshAllowedSigners} named by the policy does not exist in ${source.label}`,
      );
    }
    ssh = { file: `${source.label}:${sshAllowedSigners}`, path: sshAllowedSigners, text };
  }
  return { openpgp, ssh, signerLogins: await readSignerLogins(source, signerLoginsPath) };
}

/**
 * The signer-logins file, read at the base SHA like the keys it describes. Named but absent is an
 * error (fail closed): without it a key could not be linked to the person it belongs to.
 */
export async function readSignerLogins(source: FileSource, path: string | null): Promise<SourceFile | null> {
  if (path === null) return null;
  const text = await source.readFile(path);
  if (text === null)
    throw new FactsError(`signer-logins file ${path} named by the policy does not exist in ${source.label}`);
  return { file: `${source.label}:${path}`, path, text };
}
