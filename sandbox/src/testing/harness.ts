/**
 * Test harness for the GitHub sandbox: a sandbox in a temp dir, a webhook receiver that checks
 * every delivery's HMAC, Octokit clients for the admin, users and the app's installations, and
 * git helpers (clone / commit / push over smart HTTP with token auth). `close()` tears it all down.
 */
import { execFile } from "node:child_process";
import { createSign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Octokit } from "@octokit/rest";
import type { ContractViolation } from "../contract/contract.js";
import { startSandbox, type Sandbox, type SandboxOptions } from "../server.js";
import { signWebhookBody } from "../webhooks/queue.js";

export interface ReceivedWebhook {
  event: string;
  action: string | null;
  deliveryId: string;
  /** Did X-Hub-Signature-256 match the body under the app's webhook secret? */
  signatureValid: boolean;
  payload: Record<string, unknown>;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestUser {
  login: string;
  email: string;
  token: string;
  octokit: Octokit;
}

export interface TestSandbox {
  sandbox: Sandbox;
  /** Temp dir holding the sandbox dir and work trees. */
  root: string;
  admin: Octokit;
  /** Every webhook the receiver got, in order. */
  webhooks: ReceivedWebhook[];
  onWebhook(listener: (hook: ReceivedWebhook) => void): () => void;
  /** Waits until the sandbox delivered everything queued (and the receiver recorded it). */
  idle(): Promise<void>;
  octokit(token: string): Octokit;
  createUser(login: string, email?: string): Promise<TestUser>;
  createOrg(login: string, owner: string): Promise<{ installationId: number }>;
  createRepo(org: string, name: string, options?: { autoInit?: boolean; private?: boolean }): Promise<void>;
  /** An org the app is NOT installed on (`install_app: false`), to install it later. */
  createOrgWithoutApp(login: string, owner: string): Promise<void>;
  /**
   * Installs the app on an org (sandbox-only `POST /sandbox/installations`): on the named
   * repositories ("selected"), or on all of them when none are named. Returns the installation id.
   */
  installApp(org: string, repositories?: string[]): Promise<number>;
  installationToken(org: string): Promise<string>;
  installationOctokit(org: string): Promise<Octokit>;
  /** An RS256 app JWT (claims overridable, to test refusals). */
  appJwt(claims?: { iat?: number; exp?: number; iss?: string | number }, pem?: string): string;
  /** `http://user:token@127.0.0.1:P/owner/repo.git` (anonymous without a token). */
  remoteUrl(owner: string, repo: string, token?: string): string;
  /** Runs git with an isolated config (no ~/.gitconfig, no prompts). */
  git(cwd: string, args: string[], env?: Record<string, string>): Promise<GitResult>;
  clone(owner: string, repo: string, token?: string): Promise<string>;
  /** Writes files, commits them (author = the given identity) and returns the new sha. */
  commit(
    cwd: string,
    files: Record<string, string>,
    message: string,
    author?: { name: string; email: string },
    extraArgs?: string[],
  ): Promise<string>;
  push(cwd: string, refspec: string, options?: { force?: boolean; remote?: string }): Promise<GitResult>;
  /** Clones as `user`, commits `files` on a new `branch`, pushes it and opens a PR into `base` (default main). */
  openPullRequest(options: {
    owner: string;
    repo: string;
    user: TestUser;
    branch: string;
    files: Record<string, string>;
    base?: string;
    title?: string;
  }): Promise<{ number: number; headSha: string; dir: string }>;
  /**
   * Forks `owner/repo` as `user` (into `organization` when given; `POST /repos/{o}/{r}/forks`) and
   * returns the fork's owner and name.
   */
  fork(
    user: TestUser,
    owner: string,
    repo: string,
    options?: { organization?: string; name?: string; defaultBranchOnly?: boolean },
  ): Promise<{ owner: string; name: string }>;
  /**
   * Returns and forgets the contract violations recorded so far: for tests that send GitHub an
   * invalid request on purpose (and assert the violation). Any other violation fails the test that
   * caused it (sandbox/test/helpers/contract-setup.ts) or, when none ran, close().
   */
  takeViolations(): ContractViolation[];
  close(): Promise<void>;
}

/** The test sandboxes running in this process (sandbox/test/helpers/contract-setup.ts checks them after each test). */
export const liveSandboxes = new Set<TestSandbox>();

/** Violations as one readable block, for a failing test's message. */
export function describeViolations(violations: ContractViolation[]): string {
  return violations
    .map((v) => `- ${v.kind} ${v.subject}\n${v.detail.map((d) => `    ${d}`).join("\n")}`)
    .join("\n");
}

const quietLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** An Octokit call's status and body, whether it succeeded or failed (RequestError). */
export async function settle(
  promise: Promise<unknown>,
): Promise<{ status: number; data: unknown; headers: Record<string, unknown> }> {
  try {
    const r = (await promise) as { status: number; data: unknown; headers: Record<string, unknown> };
    return { status: r.status, data: r.data, headers: r.headers };
  } catch (error) {
    const e = error as { status?: unknown; response?: { data?: unknown; headers?: Record<string, unknown> } };
    if (typeof e.status !== "number") throw error;
    return { status: e.status, data: e.response?.data, headers: e.response?.headers ?? {} };
  }
}

function runGit(cwd: string, args: string[], env: Record<string, string>): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, env, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

export async function startTestSandbox(options: Partial<SandboxOptions> = {}): Promise<TestSandbox> {
  const root = mkdtempSync(join(tmpdir(), "pullgate-sandbox-"));
  const webhooks: ReceivedWebhook[] = [];
  const listeners = new Set<(hook: ReceivedWebhook) => void>();
  let secret = "";
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const payload = JSON.parse(body) as Record<string, unknown>;
      const hook: ReceivedWebhook = {
        event: String(req.headers["x-github-event"]),
        action: typeof payload.action === "string" ? payload.action : null,
        deliveryId: String(req.headers["x-github-delivery"]),
        signatureValid: req.headers["x-hub-signature-256"] === signWebhookBody(secret, body),
        payload,
      };
      webhooks.push(hook);
      for (const l of listeners) l(hook);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  // Strict, and responses and webhooks checked, in every test (issue 13; sandbox/README.md);
  // PULLGATE_SANDBOX_STRICT=0 turns both off (to measure their cost, or to bisect).
  const strict = !["0", "false"].includes(process.env.PULLGATE_SANDBOX_STRICT ?? "");
  const sandbox = await startSandbox({
    dir: join(root, "sandbox"),
    appWebhookUrl: receiverUrl,
    strict,
    validateResponses: strict,
    ...options,
  });
  secret = sandbox.app.webhookSecret;
  const home = join(root, "home");
  mkdirSync(home, { recursive: true });
  const gitEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    LC_ALL: "C",
  };
  const octokit = (token: string) => new Octokit({ auth: token, baseUrl: sandbox.apiUrl, log: quietLog });
  const admin = octokit(sandbox.adminToken);
  let workCounter = 0;

  const harness: TestSandbox = {
    sandbox,
    root,
    admin,
    webhooks,
    onWebhook(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    idle: () => sandbox.idle(),
    octokit,
    async createUser(login, email = `${login}@example.test`) {
      await admin.request("POST /admin/users", { login, email });
      const { data } = await admin.request("POST /admin/users/{username}/authorizations", {
        username: login,
        scopes: ["repo"],
      });
      const token = (data as { token: string }).token;
      return { login, email, token, octokit: octokit(token) };
    },
    async createOrg(login, owner) {
      await admin.request("POST /admin/organizations", { login, admin: owner });
      const installation = Object.values(sandbox.state.installations).find((i) => i.account === login);
      if (installation === undefined) throw new Error("org was not installed");
      return { installationId: installation.id };
    },
    async createRepo(org, name, opts = {}) {
      await admin.request("POST /orgs/{org}/repos", {
        org,
        name,
        auto_init: opts.autoInit ?? true,
        private: opts.private ?? false,
      });
    },
    async createOrgWithoutApp(login, owner) {
      await admin.request("POST /admin/organizations", { login, admin: owner, install_app: false });
    },
    async installApp(org, repositories) {
      const { data } = await admin.request("POST /sandbox/installations", {
        account: org,
        ...(repositories === undefined
          ? { repository_selection: "all" }
          : { repository_selection: "selected", repositories }),
      });
      return (data as { id: number }).id;
    },
    async installationToken(org) {
      const installation = Object.values(sandbox.state.installations).find((i) => i.account === org);
      if (installation === undefined) throw new Error(`app not installed on ${org}`);
      const { data } = await octokit(harness.appJwt()).request(
        "POST /app/installations/{installation_id}/access_tokens",
        { installation_id: installation.id },
      );
      return data.token;
    },
    async installationOctokit(org) {
      return octokit(await harness.installationToken(org));
    },
    appJwt(claims = {}, pem = sandbox.app.privateKeyPem) {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
      const payload = Buffer.from(
        JSON.stringify({
          iat: claims.iat ?? now - 30,
          exp: claims.exp ?? now + 540,
          iss: claims.iss ?? sandbox.app.id,
        }),
      ).toString("base64url");
      const signature = createSign("RSA-SHA256")
        .update(`${header}.${payload}`)
        .sign(pem)
        .toString("base64url");
      return `${header}.${payload}.${signature}`;
    },
    remoteUrl(owner, repo, token) {
      const url = new URL(`${sandbox.gitUrl}${owner}/${repo}.git`);
      if (token !== undefined) {
        url.username = "x-access-token";
        url.password = token;
      }
      return url.toString();
    },
    git: (cwd, args, env = {}) => runGit(cwd, args, { ...gitEnv, ...env }),
    async clone(owner, repo, token) {
      const dir = join(root, `work-${++workCounter}-${repo}`);
      const result = await runGit(
        root,
        ["clone", "--quiet", harness.remoteUrl(owner, repo, token), dir],
        gitEnv,
      );
      if (result.code !== 0) throw new Error(`git clone failed: ${result.stderr}`);
      return dir;
    },
    async commit(
      cwd,
      files,
      message,
      author = { name: "Test Author", email: "author@example.test" },
      extraArgs = [],
    ) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(cwd, path)), { recursive: true });
        writeFileSync(join(cwd, path), content);
      }
      const env = {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
      };
      const add = await harness.git(cwd, ["add", "-A"], env);
      if (add.code !== 0) throw new Error(add.stderr);
      const commit = await harness.git(cwd, ["commit", "--quiet", "-m", message, ...extraArgs], env);
      if (commit.code !== 0) throw new Error(`git commit failed: ${commit.stderr}`);
      return (await harness.git(cwd, ["rev-parse", "HEAD"])).stdout.trim();
    },
    async push(cwd, refspec, opts = {}) {
      const args = ["push", "--porcelain", opts.remote ?? "origin", refspec];
      if (opts.force === true) args.splice(1, 0, "--force");
      return harness.git(cwd, args);
    },
    async openPullRequest(opts) {
      const dir = await harness.clone(opts.owner, opts.repo, opts.user.token);
      const base = opts.base ?? "main";
      await harness.git(dir, ["checkout", "-q", "-b", opts.branch, `origin/${base}`]);
      const headSha = await harness.commit(dir, opts.files, opts.title ?? `change on ${opts.branch}`, {
        name: opts.user.login,
        email: opts.user.email,
      });
      const pushed = await harness.push(dir, `HEAD:refs/heads/${opts.branch}`);
      if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
      const { data } = await opts.user.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: opts.owner,
        repo: opts.repo,
        title: opts.title ?? opts.branch,
        head: opts.branch,
        base,
      });
      return { number: data.number, headSha, dir };
    },
    async fork(user, owner, repo, opts = {}) {
      const { data } = await user.octokit.request("POST /repos/{owner}/{repo}/forks", {
        owner,
        repo,
        ...(opts.organization === undefined ? {} : { organization: opts.organization }),
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.defaultBranchOnly === undefined ? {} : { default_branch_only: opts.defaultBranchOnly }),
      });
      return { owner: data.owner.login, name: data.name };
    },
    takeViolations: () => sandbox.contract.take(),
    async close() {
      liveSandboxes.delete(harness);
      await sandbox.close();
      await new Promise<void>((r) => receiver.close(() => r()));
      rmSync(root, { recursive: true, force: true });
      const left = sandbox.contract.take();
      if (left.length > 0)
        throw new Error(`the sandbox recorded GitHub contract violations:\n${describeViolations(left)}`);
    },
  };
  liveSandboxes.add(harness);
  return harness;
}
