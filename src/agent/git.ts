/**
 * The agent's git adapter: a private bare cache repository, driven through the system git binary.
 * Every call passes arguments as an array (no shell) and refuses option-looking URLs and revisions.
 */

import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { formatDuration } from "./duration.js";

export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    message: string,
    readonly stderr: string,
    /** git's exit code, or null when it could not run, was killed or timed out. */
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

/**
 * Bounds on every git child (docs/agents.md, "Failures and retries"): without them a peer that
 * accepts the connection and never answers freezes the agent silently, and the freeze alarm
 * (--max-age) never fires because no tick ever ends.
 */
export interface GitLimits {
  /** Hard deadline per git command; the command's whole process group is then killed. */
  timeoutMs: number;
  /** git's http.lowSpeedLimit (bytes/s) ... */
  lowSpeedLimit: number;
  /** ... sustained for http.lowSpeedTime seconds aborts the transfer. */
  lowSpeedTimeSeconds: number;
  /** Aborting kills the running git child at once (SIGTERM to the agent). */
  signal?: AbortSignal | undefined;
}

/**
 * 5 minutes: a first fetch of a large GitOps repository over a slow link fits; a stalled one is cut
 * long before by the low-speed limit (1 KB/s for 30 s) when it is http(s). ssh and file transports
 * have no low-speed knob, the deadline is their bound.
 */
export const DEFAULT_GIT_LIMITS: GitLimits = {
  timeoutMs: 5 * 60_000,
  lowSpeedLimit: 1000,
  lowSpeedTimeSeconds: 30,
};

const SHA1 = /^[0-9a-f]{40}$/;

interface RunResult {
  stdout: string;
  stderr: string;
}

/** One line: git's multi-line errors become "a; b; c" so a log event stays one physical line. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ");
}

/** The git subcommand, for messages: the first argument after the global options. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--git-dir" || arg === "--work-tree" || arg === "-c") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return "";
}

interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  limits: GitLimits;
  maxBuffer?: number;
  /** Streamed stdout; returning true stops git (a successful early stop, not an error). */
  onStdout?: (chunk: string) => boolean;
}

/**
 * Runs git in its own process group (detached) so the deadline and the shutdown can kill it and every
 * helper it started (git-remote-https, ssh) at once; an exited git whose helper still holds the pipe
 * does not keep us waiting either (the streams are dropped once the group is killed).
 */
function run(args: string[], options: SpawnOptions): Promise<RunResult & { stopped: boolean }> {
  const name = subcommand(args);
  const { limits } = options;
  const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (limits.signal?.aborted) {
      reject(new GitError(`git ${name} not started: the agent is stopping`, "", null));
      return;
    }
    const child = spawn("git", args, {
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let stopped = false;
    let killedFor: string | null = null;
    let exited = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        /* the group is already gone */
      }
      if (exited) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
    };
    const kill = (why: string) => {
      if (killedFor !== null || stopped) return;
      killedFor = why;
      killGroup();
    };
    const timer = setTimeout(
      () => kill(`timed out after ${formatDuration(limits.timeoutMs)} (killed)`),
      limits.timeoutMs,
    );
    const onAbort = () => kill("stopped: the agent is shutting down");
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
    };

    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stopped || killedFor !== null) return;
      if (options.onStdout !== undefined) {
        if (options.onStdout(chunk)) {
          stopped = true;
          killGroup();
        }
        return;
      }
      stdout += chunk;
      if (stdout.length > maxBuffer) kill(`output exceeded ${maxBuffer} bytes (killed)`);
    });
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on("exit", () => {
      exited = true;
      if (killedFor !== null || stopped) killGroup();
    });
    child.on("error", (error) => {
      cleanup();
      reject(new GitError(`git ${name} could not run: ${error.message}`, stderr, null));
    });
    child.on("close", (code) => {
      cleanup();
      if (stopped) resolve({ stdout, stderr, stopped });
      else if (killedFor !== null)
        reject(
          new GitError(
            `git ${name} ${killedFor}${stderr.trim() === "" ? "" : `: ${oneLine(stderr)}`}`,
            stderr,
            null,
          ),
        );
      else if (code !== 0)
        reject(
          new GitError(`git ${name} failed: ${oneLine(stderr) || `exit ${String(code)}`}`, stderr, code),
        );
      else resolve({ stdout, stderr, stopped });
    });
  });
}

export class GitCache {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    /** The bare repository directory (created on first use). */
    readonly dir: string,
    baseEnv: NodeJS.ProcessEnv = process.env,
    private readonly limits: GitLimits = DEFAULT_GIT_LIMITS,
  ) {
    // Never prompt (an agent has no terminal); keep whatever credential config the operator set.
    this.env = { ...baseEnv, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" };
  }

  private git(args: string[], env: NodeJS.ProcessEnv = this.env): Promise<RunResult> {
    return run(["--git-dir", this.dir, ...args], { env, limits: this.limits });
  }

  async init(): Promise<void> {
    await mkdir(dirname(this.dir), { recursive: true });
    await run(["init", "--quiet", "--bare", this.dir], { env: this.env, limits: this.limits });
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
      // A transfer slower than lowSpeedLimit for lowSpeedTime is aborted by git itself (http(s));
      // the deadline in run() bounds every transport.
      "-c",
      `http.lowSpeedLimit=${this.limits.lowSpeedLimit}`,
      "-c",
      `http.lowSpeedTime=${this.limits.lowSpeedTimeSeconds}`,
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
    let found = false;
    let buffered = "";
    await run(["--git-dir", this.dir, "rev-list", "--first-parent", descendant], {
      env: this.env,
      limits: this.limits,
      onStdout: (chunk) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        found = lines.includes(ancestor);
        return found;
      },
    });
    return found || buffered === ancestor;
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
      await run(["--git-dir", this.dir, "-c", "core.autocrlf=false", "read-tree", tree], {
        env,
        limits: this.limits,
      });
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
        { env, limits: this.limits },
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

function assertSha(sha: string): void {
  if (!SHA1.test(sha)) throw new GitError(`not a commit SHA: ${JSON.stringify(sha)}`, "", null);
}
