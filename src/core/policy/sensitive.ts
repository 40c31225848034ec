import type { SignaturePolicy } from "./types.js";

/**
 * Paths whose changes always need an admin's approval, whatever CODEOWNERS says: the files that
 * decide who approves and whose keys are trusted. A PR that edits them edits the gate itself.
 */
export const BUILTIN_SENSITIVE_PATHS: readonly string[] = [
  "/.github/CODEOWNERS",
  "/CODEOWNERS",
  "/docs/CODEOWNERS",
  "/.github/pullgate.yml",
  "/.github/workflows/**",
];

/** A keyring path may be a file or a folder: cover both (`/path` and everything under it). */
function keyringPatterns(path: string): string[] {
  return [`/${path}`, `/${path}/**`];
}

/** Built-in paths, then every keyring path (of each branch and of `defaults`), then the file's extras; each once. */
export function sensitivePathsFor(
  signatures: readonly Pick<SignaturePolicy, "openpgpKeyrings" | "sshAllowedSigners" | "signerLogins">[],
  extra: readonly string[],
): string[] {
  const out = new Set<string>(BUILTIN_SENSITIVE_PATHS);
  for (const settings of signatures) {
    for (const keyring of settings.openpgpKeyrings) keyringPatterns(keyring).forEach((p) => out.add(p));
    if (settings.sshAllowedSigners !== null)
      keyringPatterns(settings.sshAllowedSigners).forEach((p) => out.add(p));
    // The signer-logins file decides whose approval is a self-approval: as sensitive as a keyring.
    if (settings.signerLogins !== null) keyringPatterns(settings.signerLogins).forEach((p) => out.add(p));
  }
  for (const path of extra) out.add(path);
  return [...out];
}
