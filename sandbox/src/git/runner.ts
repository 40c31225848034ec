import { spawn } from "node:child_process";

/** git failed: its exit code and stderr, for callers that turn some failures into 404/422. */
export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} exited ${String(exitCode)}: ${stderr.trim()}`);
  }
}

export interface GitRunOptions {
  input?: Buffer | string;
  env?: Record<string, string>;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/**
 * The environment every git the sandbox runs gets: no system or global config (the user's
 * ~/.gitconfig must not change what the emulator does), no prompts, no pager.
 */
export function isolatedGitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_PAGER: "cat",
    LC_ALL: "C",
    ...extra,
  };
}

/** Runs git in `cwd` (a bare repository) and returns its output; rejects with GitError. */
export function runGit(cwd: string, args: string[], options: GitRunOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: isolatedGitEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.stdin.on("error", () => {
      /* git may exit before reading all of stdin; its exit code tells what happened */
    });
    child.on("close", (code) => {
      const result = {
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
        code: code ?? -1,
      };
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) resolve(result);
      else reject(new GitError(args, code, result.stderr));
    });
    child.stdin.end(options.input ?? "");
  });
}
