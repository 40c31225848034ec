/**
 * What an environment would do with the records: the real agent verification (src/agent: fetch
 * approved/<env> over git smart HTTP into a private cache, then every check of
 * docs/architecture.md, "What an agent refuses"), and, when GnuPG is installed, `git verify-commit`
 * with nothing but the app's public key, as Flux and Argo CD do.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchAndVerify } from "../agent/fetch-verify.js";
import { GitCache } from "../agent/git.js";
import { resolveTarget } from "../agent/target.js";
import type { VerifiedRecord } from "../record/verify.js";
import { runGit } from "./git.js";

export interface AgentCheckOptions {
  /** What the agent fetches (the sandbox's smart HTTP URL). */
  url: string;
  repository: string;
  environment: string;
  /** The app's public key file (.asc): the agent's pinned keyring. */
  keysPath: string;
  /** Scratch space for the agent's git cache. */
  workDir: string;
  gitEnv: Record<string, string>;
}

/** Fetches and verifies approved/<env> as `pullgate verify` does; throws RecordVerificationError on refusal. */
export async function agentVerify(options: AgentCheckOptions): Promise<VerifiedRecord> {
  const target = await resolveTarget(
    {
      repo: options.url,
      environment: options.environment,
      keys: options.keysPath,
      repository: options.repository,
    },
    options.workDir,
  );
  const cache = new GitCache(join(options.workDir, "agent-cache.git"), options.gitEnv);
  return fetchAndVerify({ cache, ...target, lastAccepted: null, now: new Date() });
}

function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
      resolve({ code, stdout, stderr });
    });
  });
}

export type GpgVerification =
  { kind: "verified"; output: string } | { kind: "refused"; output: string } | { kind: "no-gpg" };

/**
 * `git verify-commit COMMIT` in `repository` with a throwaway GNUPGHOME holding only the public key
 * (never the user's keyring). The GNUPGHOME lives under the OS temp dir: gpg-agent's socket path
 * must stay short whatever directory the demo keeps its data in.
 */
export async function gitVerifyCommit(
  repository: string,
  commit: string,
  keysPath: string,
  gitEnv: Record<string, string>,
): Promise<GpgVerification> {
  const probe = await run("gpg", ["--version"], { PATH: gitEnv.PATH ?? "/usr/bin:/bin" });
  if (probe.code !== 0) return { kind: "no-gpg" };
  const home = await mkdtemp(join(tmpdir(), "pullgate-gnupg-"));
  const env = { ...gitEnv, GNUPGHOME: home };
  try {
    const imported = await run("gpg", ["--batch", "--quiet", "--import", keysPath], env);
    if (imported.code !== 0)
      return { kind: "refused", output: `gpg --import failed: ${imported.stderr.trim()}` };
    const verified = await runGit(repository, ["verify-commit", commit], env);
    const output = (verified.stderr + verified.stdout).trim();
    return verified.code === 0 ? { kind: "verified", output } : { kind: "refused", output };
  } finally {
    await run("gpgconf", ["--kill", "all"], env);
    await rm(home, { recursive: true, force: true });
  }
}
