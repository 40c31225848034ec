// The emulator's own copy of test/helpers/gnupg.ts: the package's tests import nothing from the product.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A GNUPGHOME holding only `publicKey` (never the user's ~/.gnupg); `close()` stops its agent and removes it. */
export function gnupgHome(publicKey: string): { home: string; close(): void } {
  const home = mkdtempSync(join(tmpdir(), "sandbox-test-gnupg-"));
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync("gpg", ["--batch", "--quiet", "--import"], { input: publicKey, env, stdio: "pipe" });
  return {
    home,
    close() {
      try {
        execFileSync("gpgconf", ["--kill", "all"], { env, stdio: "ignore" });
      } catch {
        /* no agent was started */
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * `git verify-commit` in `repoDir` with a GNUPGHOME holding only `armoredKey`: real gpg as the
 * oracle for what the sandbox signs (never ~/.gnupg, never the global git config).
 */
export function verifyWithGnupg(
  repoDir: string,
  sha: string,
  armoredKey: string,
): { ok: boolean; output: string } {
  const gpg = gnupgHome(armoredKey);
  const env = {
    ...process.env,
    GNUPGHOME: gpg.home,
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
  };
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
  } finally {
    gpg.close();
  }
}
