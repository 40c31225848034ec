/**
 * The agent's git adapter: a private bare cache repository, driven through the system git binary.
 * Every call passes arguments as an array (no shell) and refuses option-looking URLs and revisions.
 */

import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    message: string,
    readonly stderr: string,
    /** git's exit code, or null when it could not run. */
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

const SHA1 = /^[0-9a-f]{40}$/;

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, maxBuffer = 64 * 1024 * 1024): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { env, maxBuffer, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) {
        const code = typeof error.code === "number" ? error.code : null;
        reject(
          new GitError(
            `git ${args[2] ?? args[0] ?? ""} failed: ${stderr.trim() || error.message}`,
            stderr,
            code,
          ),
        );
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

export class GitCache {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    /** The bare repository directory (created on first use). */
    readonly dir: string,
    baseEnv: NodeJS.ProcessEnv = process.env,
  ) {
    // Never prompt (an agent has no terminal); keep whatever credential config the operator set.
    this.env = { ...baseEnv, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" };
  }

  private git(args: string[], env: NodeJS.ProcessEnv = this.env): Promise<RunResult> {
    return run(["--git-dir", this.dir, ...args], env);
  }

  async init(): Promise<void> {
    await mkdir(dirname(this.dir), { recursive: true });
    await run(["init", "--quiet", "--bare", this.dir], this.env);
  }

  /**
   * Fetches refs/heads/approved/<env> into refs/pullgate/<env> and returns the commit it points at.
   * Forced (+): the remote ref moving backwards must reach the verifier, which refuses it with a code,
   * rather than fail the fetch with a confusing non-fast-forward message.
   */
  async fetchApproved(url: string, environment: string, refPrefix = "approved/"): Promise<string> {
    if (url.startsWith("-"))
      throw new GitError(`refusing repository URL that looks like an option: ${url}`, "", null);
    const local = `refs/pullgate/${environment}`;
    await this.git([
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-recurse-submodules",
      "--",
      url,
      `+refs/heads/${refPrefix}${environment}:${local}`,
    ]);
    return this.resolveCommit(local);
  }

  async resolveCommit(rev: string): Promise<string> {
    const { stdout } = await this.git(["rev-parse", "--verify", "--end-of-options", `${rev}^{commit}`]);
    const sha = stdout.trim();
    if (!SHA1.test(sha)) throw new GitError(`unexpected rev-parse output for ${rev}`, stdout, null);
    return sha;
  }

  /** `git cat-file commit <sha>`: the raw commit object text. */
  async catCommit(sha: string): Promise<string> {
    assertSha(sha);
    return (await this.git(["cat-file", "commit", sha])).stdout;
  }

  /** The tree of a commit, or null when the commit is not in the cache. */
  async treeOf(sha: string): Promise<string | null> {
    assertSha(sha);
    try {
      const { stdout } = await this.git(["rev-parse", "--verify", "--quiet", `${sha}^{tree}`]);
      const tree = stdout.trim();
      return SHA1.test(tree) ? tree : null;
    } catch {
      return null;
    }
  }

  async hasCommit(sha: string): Promise<boolean> {
    assertSha(sha);
    try {
      await this.git(["cat-file", "-e", `${sha}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether `ancestor` is on the FIRST-parent chain of `descendant` (or is it). Records chain through
   * their first parent; reaching the last accepted record through a source commit's history (someone
   * merged approved/<env> into a branch) is not descent of the record chain. Streams `git rev-list
   * --first-parent` and stops reading as soon as the commit is found.
   */
  async firstParentChainContains(descendant: string, ancestor: string): Promise<boolean> {
    assertSha(ancestor);
    assertSha(descendant);
    if (!(await this.hasCommit(ancestor))) return false;
    return new Promise((resolvePromise, reject) => {
      const child = spawn("git", ["--git-dir", this.dir, "rev-list", "--first-parent", descendant], {
        env: this.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let found = false;
      let buffered = "";
      let stderr = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        if (found) return;
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        if (lines.includes(ancestor)) {
          found = true;
          child.kill();
        }
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => {
        if (found || buffered === ancestor) resolvePromise(true);
        else if (code === 0) resolvePromise(false);
        else reject(new GitError(`git rev-list failed: ${stderr.trim()}`, stderr, code));
      });
    });
  }

  /**
   * Writes the files of `tree` into the empty or missing directory `target`, through a throwaway index
   * (the cache's own index is never touched).
   */
  async checkoutTree(tree: string, target: string): Promise<void> {
    assertSha(tree);
    await mkdir(target, { recursive: true });
    const scratch = await mkdtemp(join(dirname(this.dir), ".pullgate-index-"));
    const env = { ...this.env, GIT_INDEX_FILE: join(scratch, "index") };
    try {
      await run(["--git-dir", this.dir, "-c", "core.autocrlf=false", "read-tree", tree], env);
      await run(
        [
          "--git-dir",
          this.dir,
          "--work-tree",
          target,
          "-c",
          "core.autocrlf=false",
          "checkout-index",
          "--all",
          "--force",
        ],
        env,
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

function assertSha(sha: string): void {
  if (!SHA1.test(sha)) throw new GitError(`not a commit SHA: ${JSON.stringify(sha)}`, "", null);
}
