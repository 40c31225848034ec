/**
 * Helpers for the end-to-end record tests: merge approved pull requests through the sandbox, read
 * approved/<env> back over git smart HTTP, run `pullgate verify` / `pullgate agent` in-process and as
 * a spawned bin, and check records with GnuPG (`git verify-commit`, a temp GNUPGHOME holding only
 * the app's public key).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { ORG, REPO, type AppHarness, type Person } from "./app-harness.js";
export { gnupgHome } from "./gnupg.js";

export type MergeMethod = "merge" | "squash" | "rebase";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The --json document (parsed stdout), or null without --json / when stdout is not JSON. */
  json: Record<string, unknown> | null;
}

function parseJson(stdout: string): Record<string, unknown> | null {
  try {
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** `pullgate ARGS` in-process through main(), with a capturing CliIo. */
export async function cli(args: string[], cwd: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    cwd,
  };
  const code = await main(args, io);
  const stdout = out.join("\n");
  return { code, stdout, stderr: err.join("\n"), json: parseJson(stdout) };
}

const BIN = resolve(import.meta.dirname, "../../bin/pullgate.js");

/** `PULLGATE_FROM_SOURCE=1 node bin/pullgate.js ARGS` as a child process (the real bin). */
export function spawnCli(args: string[], cwd: string): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: {
        ...process.env,
        PULLGATE_FROM_SOURCE: "1",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) =>
      resolvePromise({ code: code ?? -1, stdout, stderr, json: parseJson(stdout) }),
    );
  });
}

/** Merges a PR as `who` and waits until every webhook it caused was handled; returns the new base tip. */
export async function mergePull(
  h: AppHarness,
  who: Person,
  number: number,
  method: MergeMethod,
): Promise<string> {
  const { data } = await who.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
    owner: ORG,
    repo: REPO,
    pull_number: number,
    merge_method: method,
  });
  await h.settle();
  return data.sha;
}

export interface ApprovedPull {
  number: number;
  headSha: string;
  /** The work tree the PR branch was made in. */
  dir: string;
}

/**
 * Opens a PR from a fresh branch off main (signed commits by `author`, one per entry of `commits`),
 * has `approver` approve its head, and checks that pullgate's check passed.
 */
export async function openApprovedPull(
  h: AppHarness,
  author: Person,
  approver: Person,
  branch: string,
  commits: Record<string, string>[],
): Promise<ApprovedPull> {
  const [first, ...rest] = commits;
  if (first === undefined) throw new Error("a PR needs at least one commit");
  const pr = await h.openPull(author, branch, first);
  let headSha = pr.headSha;
  for (const [i, files] of rest.entries()) {
    headSha = await h.commit(pr.dir, author, files, `more on ${branch} (${i + 2})`);
    const pushed = await h.t.push(pr.dir, `HEAD:refs/heads/${branch}`);
    if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
    await h.settle();
  }
  await h.review(approver, pr.number, "APPROVE", headSha);
  const check = await h.check(headSha);
  if (check?.conclusion !== "success") {
    throw new Error(`PR #${pr.number} did not pass: ${check?.title ?? "no check"}\n${check?.text ?? ""}`);
  }
  return { number: pr.number, headSha, dir: pr.dir };
}

/** The SHA approved/<env> points at on the sandbox, or null when the ref does not exist. */
export async function recordHead(h: AppHarness, environment = "production"): Promise<string | null> {
  try {
    const { data } = await h.people.olivia.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner: ORG,
      repo: REPO,
      ref: `heads/approved/${environment}`,
    });
    return data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

export interface RecordView {
  sha: string;
  tree: string;
  parents: string[];
  /** Trailers as `git interpret-trailers --parse` reads them: key → values in order. */
  trailers: Record<string, string[]>;
}

/** git in `cwd` with the sandbox harness's isolated config; throws on failure. */
export async function git(h: AppHarness, cwd: string, args: string[], env?: Record<string, string>) {
  const r = await h.t.git(cwd, args, env);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * A local clone with every branch fetched fresh over smart HTTP; returns the
 * record chain newest first, read by walking first parents from the ref (records chain there).
 */
export async function readRecords(
  h: AppHarness,
  dir: string,
  environment = "production",
): Promise<RecordView[]> {
  await git(h, dir, [
    "fetch",
    "--quiet",
    "--force",
    "--prune",
    "origin",
    "+refs/heads/*:refs/remotes/origin/*",
  ]);
  const records: RecordView[] = [];
  let sha: string | undefined = (
    await git(h, dir, ["rev-parse", `refs/remotes/origin/approved/${environment}`])
  ).trim();
  while (sha !== undefined) {
    const line: string[] = (await git(h, dir, ["log", "-1", "--format=%T %P", sha])).trim().split(" ");
    const [tree = "", ...parents] = line;
    const message = await git(h, dir, ["log", "-1", "--format=%B", sha]);
    const parsed = execFileSync("git", ["interpret-trailers", "--parse"], {
      input: message,
      encoding: "utf8",
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    });
    const trailers: Record<string, string[]> = {};
    for (const t of parsed.split("\n").filter((l) => l !== "")) {
      const colon = t.indexOf(": ");
      const key = t.slice(0, colon);
      (trailers[key] ??= []).push(t.slice(colon + 2));
    }
    records.push({ sha, tree, parents, trailers });
    // The first record has one parent (its source); later ones chain through the first parent.
    sha = parents.length === 2 ? parents[0] : undefined;
  }
  return records;
}

/** A temp folder for CLI state, keys and workdirs. */
export function scratch(prefix: string, publicKey: string): { dir: string; keys: string; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), `pullgate-e2e-${prefix}-`));
  const keys = join(dir, "public.asc");
  writeFileSync(keys, publicKey);
  return { dir, keys, close: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WebhookRelay {
  url: string;
  /** Deliveries forwarded so far, per target index. */
  forwarded: number[];
  /** Resolves when every forwarded delivery was answered by its target. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Stands between the sandbox and the app like GitHub's hookshot in front of several replicas: it
 * answers each delivery at once and forwards it (same body, event, delivery id and HMAC) to the
 * targets in turn without waiting, so consecutive events are handled concurrently.
 */
export async function startRelay(targets: string[]): Promise<WebhookRelay> {
  const inFlight = new Set<Promise<void>>();
  const forwarded = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(202).end();
      const index = next++ % targets.length;
      forwarded[index] = (forwarded[index] ?? 0) + 1;
      const headers: Record<string, string> = {};
      for (const name of ["content-type", "x-github-event", "x-github-delivery", "x-hub-signature-256"]) {
        const value = req.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const delivery = fetch(targets[index] ?? "", { method: "POST", headers, body: Buffer.concat(chunks) })
        .then((r) => r.arrayBuffer())
        .then(() => undefined);
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    forwarded,
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
