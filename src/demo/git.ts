/**
 * git for the demo world: every run has an isolated configuration (no ~/.gitconfig, no system
 * config, no prompts), so the demo behaves the same on any machine and never touches the user's
 * setup. Arguments are always passed as an array (no shell).
 */
import { execFile } from "node:child_process";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment every demo git process runs with: `home` stands in for $HOME. */
export function isolatedGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    LC_ALL: "C",
  };
}

/** Runs git and resolves with its exit code and output (never rejects on a non-zero exit). */
export function runGit(cwd: string, args: string[], env: Record<string, string>): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, env, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}
