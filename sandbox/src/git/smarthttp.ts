import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SandboxCore } from "../core.js";
import { roleAtLeast } from "../core.js";
import type { Actor } from "../auth/actor.js";
import { credentialFromHeader, resolveActor } from "../auth/tokens.js";
import type { RepoRecord } from "../state/types.js";
import { isolatedGitEnv } from "./runner.js";
import { checkPush, type ProposedUpdate } from "../protection/enforce.js";
import { afterRefUpdates, type RefUpdate } from "../pushes.js";
import { rulesetCoversRepo } from "../protection/rulesets.js";

/**
 * The pre-receive hook, run by git receive-pack inside the quarantine (so the pushed objects
 * are visible to it but not yet to anyone else). It describes each proposed update (fast-forward
 * or not, the new commits with their raw text, so the sandbox can verify signatures) and asks the sandbox over HTTP;
 * a refusal makes receive-pack reject the push, and the sandbox's reasons reach the pusher as
 * `remote:` lines, as with GitHub's GH006/GH013 errors.
 */
const HOOK_SOURCE = String.raw`"use strict";
const { execFileSync } = require("node:child_process");
const ZERO = "0000000000000000000000000000000000000000";
const git = (args) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 28 });
const lines = require("node:fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
const updates = lines.map((line) => {
  const [before, after, ref] = line.split(" ");
  let fastForward = true;
  if (before !== ZERO && after !== ZERO) {
    try { execFileSync("git", ["merge-base", "--is-ancestor", before, after], { stdio: "ignore" }); }
    catch { fastForward = false; }
  }
  const commits = [];
  if (after !== ZERO) {
    const list = git(["rev-list", "--max-count=1000", after, "--not", "--all"]).split("\n").filter(Boolean);
    // One cat-file for all new commits: "<sha> commit <size>\n<raw>\n" each.
    const out = list.length === 0 ? Buffer.alloc(0) : execFileSync("git", ["cat-file", "--batch"], { input: list.join("\n") + "\n", maxBuffer: 1 << 28 });
    let pos = 0;
    for (const sha of list) {
      const newline = out.indexOf(10, pos);
      const size = Number(out.subarray(pos, newline).toString().split(" ")[2]);
      const raw = out.subarray(newline + 1, newline + 1 + size).toString("utf8");
      pos = newline + 1 + size + 1;
      const header = raw.slice(0, raw.indexOf("\n\n"));
      const parents = (header.match(/^parent /gm) || []).length;
      commits.push({ sha, raw, parents });
    }
  }
  return { ref, before, after, fastForward, commits };
});
fetch(process.env.SANDBOX_HOOK_URL, {
  method: "POST",
  headers: { "content-type": "application/json", "x-sandbox-hook-secret": process.env.SANDBOX_HOOK_SECRET },
  body: JSON.stringify({ pushId: process.env.SANDBOX_PUSH_ID, updates }),
}).then(async (response) => {
  const verdict = await response.json();
  for (const message of verdict.messages || []) process.stderr.write(message + "\n");
  process.exit(response.ok && verdict.ok ? 0 : 1);
}, (error) => {
  process.stderr.write("sandbox pre-receive hook could not reach the sandbox: " + error.message + "\n");
  process.exit(1);
});
`;

interface PushContext {
  repo: RepoRecord;
  actor: Actor;
}

/**
 * Git smart HTTP through `git http-backend` (CGI). Reads need read access (anonymous only on
 * public repositories), pushes need write. Branch protection and rulesets are enforced by the
 * pre-receive hook (see HOOK_SOURCE); ref changes are found by comparing refs before and after
 * receive-pack, under the repository's ref lock, and then reported as push webhooks and PR
 * synchronisation before the HTTP response ends (so a client that saw its push finish can
 * `await sandbox.idle()` and see every consequence).
 */
export class GitSmartHttp {
  private readonly hooksDir: string;
  private readonly noHooksDir: string;
  private readonly pushes = new Map<string, PushContext>();

  constructor(
    private readonly core: SandboxCore,
    private readonly options: { hookSecret: string; hookUrl: string },
  ) {
    this.hooksDir = join(core.dir, "hooks");
    this.noHooksDir = join(core.dir, "hooks-none");
    mkdirSync(this.hooksDir, { recursive: true });
    mkdirSync(this.noHooksDir, { recursive: true });
    writeFileSync(join(this.hooksDir, "pre-receive.cjs"), HOOK_SOURCE);
    const launcher = join(this.hooksDir, "pre-receive");
    writeFileSync(
      launcher,
      `#!/bin/sh\nexec "${process.execPath}" "${join(this.hooksDir, "pre-receive.cjs")}"\n`,
    );
    chmodSync(launcher, 0o755);
  }

  /** Could any push to this repository be refused (a protected branch or an active ruleset)? */
  private hasPushRules(repo: RepoRecord): boolean {
    const prefix = `${repo.owner}/${repo.name}:`;
    if (Object.keys(this.core.state.protections).some((k) => k.startsWith(prefix))) return true;
    return Object.values(this.core.state.rulesets).some(
      (r) => r.enforcement === "active" && rulesetCoversRepo(r, repo),
    );
  }

  /** Called by the hook (over HTTP): may these updates happen? */
  async preReceive(body: unknown): Promise<{ ok: boolean; messages: string[] }> {
    const request = body as { pushId?: string; updates?: ProposedUpdate[] };
    const context = request.pushId === undefined ? undefined : this.pushes.get(request.pushId);
    if (context === undefined || !Array.isArray(request.updates))
      return { ok: false, messages: ["unknown push"] };
    const messages: string[] = [];
    for (const update of request.updates) {
      messages.push(...(await checkPush(this.core, context.repo, context.actor, update)));
    }
    return { ok: messages.length === 0, messages };
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    owner: string,
    name: string,
    rest: string,
    query: string,
  ): Promise<void> {
    const service = new URLSearchParams(query).get("service") ?? rest.replace(/^\//, "");
    const isPush = service === "git-receive-pack";
    const isSmart = service === "git-upload-pack" || isPush;
    const deny = (status: number, message: string, challenge = false) => {
      req.resume();
      res.writeHead(status, {
        "content-type": "text/plain; charset=utf-8",
        ...(challenge ? { "www-authenticate": 'Basic realm="GitHub"' } : {}),
      });
      res.end(`${message}\n`);
    };
    if (!isSmart) return deny(403, "Only the smart HTTP protocol is served.");
    // Counted and faulted like API routes, under `GIT GET git-upload-pack` (ref advertisement),
    // `GIT POST git-upload-pack` (fetch) and `GIT POST git-receive-pack` (push).
    const route = `GIT ${req.method ?? "GET"} ${service}`;
    this.core.instrumentation.record(route);
    const fault = this.core.instrumentation.take(route);
    if (fault !== undefined) {
      if (fault.latencyMs !== undefined) await new Promise((r) => setTimeout(r, fault.latencyMs));
      if (fault.timeout === true) return; // hang until the client gives up
      if (fault.status !== undefined) return deny(fault.status, "Injected fault.");
      if (fault.secondaryRateLimit !== undefined) return deny(429, "Too many requests (injected fault).");
    }
    let actor: Actor | null;
    try {
      actor = resolveActor(this.core, credentialFromHeader(req.headers.authorization));
    } catch {
      return deny(
        401,
        "Invalid username or token. Password authentication is not supported for Git operations.",
        true,
      );
    }
    if (actor?.kind === "app")
      return deny(401, "An app JWT cannot be used for git; use an installation token.", true);
    const repo = this.core.repo(owner, name);
    const role = repo === undefined ? "none" : this.core.role(actor, repo);
    if (repo === undefined || !roleAtLeast(role, "read")) {
      if (actor === null) return deny(401, "Authentication required.", true);
      return deny(404, "Repository not found.");
    }
    if (isPush && !roleAtLeast(role, "write")) {
      if (actor === null) return deny(401, "Authentication required.", true);
      return deny(
        403,
        `Permission to ${repo.owner}/${repo.name}.git denied to ${this.core.actingUser(actor).login}.`,
      );
    }
    const canonical = `/${repo.owner}/${repo.name}.git${rest}`;
    if (!(isPush && req.method === "POST")) {
      await this.runBackend(req, res, canonical, query, actor, {});
      res.end();
      return;
    }
    const pusher = actor;
    if (pusher === null) return deny(401, "Authentication required.", true);
    const release = this.core.webhooks.hold();
    try {
      await this.core.mutex.run(`${repo.owner}/${repo.name}`, async () => {
        const git = this.core.gitRepo(repo);
        const before = await git.refs();
        const pushId = randomBytes(16).toString("hex");
        this.pushes.set(pushId, { repo, actor: pusher });
        try {
          await this.runBackend(req, res, canonical, query, pusher, {
            SANDBOX_PUSH_ID: pushId,
            SANDBOX_HOOK_URL: this.options.hookUrl,
            SANDBOX_HOOK_SECRET: this.options.hookSecret,
            // No branch protection or ruleset on this repository: skip the hook (a node start per push).
            ...(this.hasPushRules(repo) ? {} : { GIT_CONFIG_VALUE_0: this.noHooksDir }),
          });
        } finally {
          this.pushes.delete(pushId);
        }
        const after = await git.refs();
        const updates: RefUpdate[] = [];
        for (const ref of new Set([...before.keys(), ...after.keys()])) {
          const b = before.get(ref) ?? null;
          const a = after.get(ref) ?? null;
          if (b !== a) updates.push({ ref, before: b, after: a });
        }
        if (updates.length > 0) {
          repo.pushed_at = this.core.now();
          await afterRefUpdates(this.core, repo, updates, this.core.actingUser(pusher));
          this.core.store.changed();
        }
      });
    } finally {
      release();
      res.end();
    }
  }

  /** Runs http-backend for one request, streaming the body in and the CGI response out (not ended). */
  private runBackend(
    req: IncomingMessage,
    res: ServerResponse,
    pathInfo: string,
    query: string,
    actor: Actor | null,
    extraEnv: Record<string, string>,
  ): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const env = isolatedGitEnv({
        GIT_PROJECT_ROOT: join(this.core.dir, "repos"),
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: pathInfo,
        QUERY_STRING: query,
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: actor === null ? "" : this.core.actingUser(actor).login,
        REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
        GIT_CONFIG_COUNT: "3",
        GIT_CONFIG_KEY_0: "core.hooksPath",
        GIT_CONFIG_VALUE_0: this.hooksDir,
        GIT_CONFIG_KEY_1: "http.receivepack",
        GIT_CONFIG_VALUE_1: "true",
        // GitHub owns refs/pull/*: they are advertised to fetches but a push may not touch them.
        GIT_CONFIG_KEY_2: "receive.hideRefs",
        GIT_CONFIG_VALUE_2: "refs/pull/",
        ...extraEnv,
      });
      if (req.headers["content-length"] !== undefined) env.CONTENT_LENGTH = req.headers["content-length"];
      if (req.headers["content-encoding"] !== undefined)
        env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
      if (req.headers["git-protocol"] !== undefined)
        env.HTTP_GIT_PROTOCOL = String(req.headers["git-protocol"]);
      const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
      req.pipe(child.stdin);
      child.stdin.on("error", () => undefined);
      let headerBuffer: Buffer | null = Buffer.alloc(0);
      child.stdout.on("data", (chunk: Buffer) => {
        if (headerBuffer === null) {
          res.write(chunk);
          return;
        }
        headerBuffer = Buffer.concat([headerBuffer, chunk]);
        let end = headerBuffer.indexOf("\r\n\r\n");
        let sepLength = 4;
        if (end === -1) {
          end = headerBuffer.indexOf("\n\n");
          sepLength = 2;
        }
        if (end === -1) return;
        const head = headerBuffer.subarray(0, end).toString("latin1");
        const rest = headerBuffer.subarray(end + sepLength);
        headerBuffer = null;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.split(/\r?\n/)) {
          const colon = line.indexOf(":");
          if (colon === -1) continue;
          const key = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
          else headers[key] = value;
        }
        res.writeHead(status, headers);
        if (rest.length > 0) res.write(rest);
      });
      const stderr: Buffer[] = [];
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.on("error", reject);
      child.on("close", (code) => {
        if (headerBuffer !== null && !res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.write(`git http-backend failed (${String(code)}): ${Buffer.concat(stderr).toString()}`);
        }
        resolvePromise();
      });
    });
  }
}
