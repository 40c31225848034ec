/**
 * An SSH signing key made by the real ssh-keygen, for tests of the SSH-signed commits the sandbox
 * verifies (the package's tests import nothing from the product, so the demo's helper is not used).
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface SshSigningKey {
  /** Private key file: what `git -c gpg.format=ssh -c user.signingkey=...` signs with. */
  path: string;
  /** "ssh-ed25519 AAAA..." (no comment): the key part of an allowed_signers line. */
  publicKey: string;
}

export async function generateSshSigningKey(dir: string, name: string): Promise<SshSigningKey> {
  const path = join(dir, name);
  await new Promise<void>((resolve, reject) => {
    execFile("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], (error) =>
      error === null ? resolve() : reject(new Error(`ssh-keygen failed for ${name}: ${error.message}`)),
    );
  });
  const publicKey = (await readFile(`${path}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
  return { path, publicKey };
}
