import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { isolatedGitEnv } from "./runner.js";

export interface CatFileObject {
  type: string;
  size: number;
  /** Present in "--batch" mode. */
  content?: Buffer;
}

interface Pending {
  resolve: (value: CatFileObject | null) => void;
  reject: (error: Error) => void;
}

/**
 * A long-lived `git cat-file --batch` (or `--batch-check`): one process answers many object
 * lookups, instead of one spawn per lookup (listing 250 commits would otherwise cost ~1,000
 * spawns). git re-scans packs on a miss, so objects pushed after start are found.
 */
export class CatFile {
  private child: ChildProcessWithoutNullStreams | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Pending[] = [];

  constructor(
    private readonly repoPath: string,
    private readonly mode: "--batch" | "--batch-check",
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.child !== null) return this.child;
    const child = spawn("git", ["cat-file", this.mode], {
      cwd: this.repoPath,
      env: isolatedGitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    child.stderr.resume();
    child.stdin.on("error", () => undefined);
    const fail = (error: Error) => {
      this.child = null;
      this.buffer = Buffer.alloc(0);
      for (const p of this.queue.splice(0)) p.reject(error);
    };
    child.on("error", fail);
    child.on("exit", () => fail(new Error("git cat-file exited")));
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    this.child = child;
    return child;
  }

  private drain(): void {
    for (;;) {
      const pending = this.queue[0];
      if (pending === undefined) return;
      const newline = this.buffer.indexOf(10);
      if (newline === -1) return;
      const header = this.buffer.subarray(0, newline).toString("utf8");
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
        this.buffer = this.buffer.subarray(newline + 1);
        this.queue.shift();
        pending.resolve(null);
        continue;
      }
      const [, type, sizeText] = header.split(" ");
      const size = Number(sizeText);
      if (this.mode === "--batch-check") {
        this.buffer = this.buffer.subarray(newline + 1);
        this.queue.shift();
        pending.resolve({ type: type ?? "", size });
        continue;
      }
      if (this.buffer.length < newline + 1 + size + 1) return;
      const content = Buffer.from(this.buffer.subarray(newline + 1, newline + 1 + size));
      this.buffer = this.buffer.subarray(newline + 1 + size + 1);
      this.queue.shift();
      pending.resolve({ type: type ?? "", size, content });
    }
  }

  /** The object named by a full sha, or null if the repository does not have it. */
  get(sha: string): Promise<CatFileObject | null> {
    return new Promise((resolve, reject) => {
      const child = this.start();
      this.queue.push({ resolve, reject });
      child.stdin.write(`${sha}\n`);
    });
  }

  close(): void {
    this.child?.kill();
    this.child = null;
  }
}
