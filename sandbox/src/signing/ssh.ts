import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** An SSH signing key registered for a user, with the email it may vouch for. */
export interface SshSigner {
  email: string;
  key: string;
}

/**
 * Does `signature` (an armored SSH signature, namespace "git") verify over `payload` with one of
 * the signers' keys for `email`? Uses `ssh-keygen -Y verify` with a throwaway allowed_signers file.
 */
export async function verifySshSignature(
  payload: string,
  signature: string,
  email: string,
  signers: SshSigner[],
): Promise<boolean> {
  const keys = signers.filter((s) => s.email.toLowerCase() === email.toLowerCase());
  if (keys.length === 0 || /[\s"]/.test(email)) return false;
  const dir = await mkdtemp(join(tmpdir(), "sandbox-ssh-"));
  try {
    const allowed = join(dir, "allowed_signers");
    const sig = join(dir, "sig");
    await writeFile(allowed, keys.map((k) => `${email} namespaces="git" ${k.key}\n`).join(""));
    await writeFile(sig, signature);
    return await new Promise<boolean>((resolve) => {
      const child = spawn(
        "ssh-keygen",
        ["-Y", "verify", "-f", allowed, "-I", email, "-n", "git", "-s", sig],
        {
          stdio: ["pipe", "ignore", "ignore"],
        },
      );
      child.on("error", () => resolve(false));
      child.on("close", (code) => resolve(code === 0));
      child.stdin.on("error", () => undefined);
      child.stdin.end(payload);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
