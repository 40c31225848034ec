import { execFile } from "node:child_process";

/**
 * Reading raw git objects through the git CLI (the I/O side of signature verification: the core
 * in src/core/signatures only ever sees the bytes). Revision arguments are passed after
 * `--end-of-options` so a hostile "--output=..." revision can never become an option.
 */

export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    message: string,
    readonly code: "not-a-commit" | "git-failed",
  ) {
    super(message);
  }
}

const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

function git(repo: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      ["-C", repo, ...args],
      {
        encoding: "buffer",
        maxBuffer: MAX_OBJECT_BYTES,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = Buffer.from(stderr).toString("utf8").trim() || error.message;
          reject(new GitError(detail, "git-failed"));
        } else resolve(Buffer.from(stdout));
      },
    );
  });
}

/** `git rev-parse --verify REV^{commit}`: the full commit id, or GitError("not-a-commit"). */
export async function resolveCommit(repo: string, rev: string): Promise<string> {
  try {
    const out = await git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]);
    const sha = out.toString("utf8").trim();
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
      throw new GitError(`${rev}: not a commit`, "not-a-commit");
    return sha;
  } catch (error) {
    if (error instanceof GitError) throw new GitError(`${rev}: not a commit in ${repo}`, "not-a-commit");
    throw error;
  }
}

/** The raw bytes of a commit object (`git cat-file commit SHA`). */
export async function readRawCommit(repo: string, sha: string): Promise<Uint8Array> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
    throw new GitError(`${sha}: not a full object id`, "not-a-commit");
  return new Uint8Array(await git(repo, ["cat-file", "commit", sha]));
}

/** The repository's object format ("sha1" or "sha256"). */
export async function objectFormat(repo: string): Promise<"sha1" | "sha256"> {
  const out = (await git(repo, ["rev-parse", "--show-object-format"])).toString("utf8").trim();
  return out === "sha256" ? "sha256" : "sha1";
}
