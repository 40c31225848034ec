import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Imports a public key into a fresh GNUPGHOME under `root` and runs `git verify-commit` there: real
 * gpg as the oracle for what the sandbox signs (never ~/.gnupg, never the global git config).
 */
export function verifyWithGnupg(
  root: string,
  repoDir: string,
  sha: string,
  armoredKey: string,
): { ok: boolean; output: string } {
  const home = mkdtempSync(join(root, "gnupg-"));
  const keyFile = join(home, "key.asc");
  writeFileSync(keyFile, armoredKey);
  const env = { ...process.env, GNUPGHOME: home, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
  execFileSync("gpg", ["--batch", "--quiet", "--import", keyFile], { env, stdio: "ignore" });
  try {
    const output = execFileSync("git", ["verify-commit", "--raw", sha], {
      cwd: repoDir,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}
