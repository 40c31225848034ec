/**
 * The demo world: the local GitHub sandbox plus the real pullgate Probot server over HTTP, wired
 * like GitHub Enterprise Server (the sandbox POSTs HMAC-signed webhooks to the server; the server
 * calls the sandbox's REST API with installation tokens), and a cast of people with SSH signing
 * keys made by ssh-keygen. One org `acme` with teams `platform` and `sre`, and a GitOps repository
 * `acme/gitops` whose `main` holds the policy, CODEOWNERS and the trusted keys.
 *
 * `pullgate demo` tells its story in this world; the e2e tests (test/helpers/app-harness.ts) run in
 * it too, so what the demo shows is what the tests check.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Octokit } from "@octokit/rest";
import type { AppOptions } from "../app.js";
import { CHECK_NAME } from "../github/check-run.js";
import { decodeDecision, type Decision } from "../github/decision.js";
import { generateRecordKey } from "../record/index.js";
import { startSandbox, type Sandbox } from "@pullgate/sandbox";
import { startServer, type RunningServer, type ServerConfig } from "../server.js";
import { isolatedGitEnv, runGit, type GitResult } from "./git.js";
import { ALLOWED_SIGNERS_PATH, BASE_CODEOWNERS, ORG, REPO, basePolicy } from "./seed.js";
import { generateSshSigningKey } from "./ssh-keys.js";

export type { GitResult } from "./git.js";

export interface WorldUser {
  login: string;
  email: string;
  /** A personal access token acting as this user (sandbox admin API). */
  token: string;
  octokit: Octokit;
}

export interface Person extends WorldUser {
  /** Private SSH key path this person signs commits with. */
  signingKey: string;
  /** Their allowed_signers line. */
  allowedSigner: string;
}

/**
 * The cast. olivia: org owner, @acme/platform (owns everything). bob: @acme/sre (owns
 * clusters/prod). alice and mallory: developers with write access. carol: read access only.
 */
export type CastName = "olivia" | "alice" | "bob" | "carol" | "mallory";
export const CAST: readonly CastName[] = ["olivia", "alice", "bob", "carol", "mallory"];

export interface CheckView {
  id: number;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  text: string;
  /** The machine-readable decision pullgate embeds in its check (null if absent or unreadable). */
  decision: Decision | null;
}

export interface PullRequestRef {
  number: number;
  headSha: string;
  /** The author's work tree, on the PR branch. */
  dir: string;
}

export interface WorldOptions {
  /** Where the sandbox (unless given), keys and work trees live. Must exist. */
  root: string;
  /** Run in this already started sandbox instead of starting one in `root/sandbox` (not closed by close()). */
  sandbox?: Sandbox;
  /** The started sandbox's strict mode (default on: sandbox/README.md "Strict mode"). */
  sandboxStrict?: boolean;
  /** `.github/pullgate.yml` seeded on main (default: basePolicy()). */
  policy?: string;
  /** `.github/CODEOWNERS` seeded on main (default: BASE_CODEOWNERS). */
  codeowners?: string;
  /** More files seeded on main, from the running sandbox (e.g. its web-flow public key as a keyring). */
  seedFiles?: (sandbox: Sandbox) => Record<string, string>;
  /** false: the app runs without a record-signing key (gates PRs, publishes nothing). */
  signingKey?: boolean;
  /** Overrides of the app's options (retry delays, timeouts). */
  app?: Partial<AppOptions>;
  /** Probot's log level; the default "fatal" keeps its logs off stdout. */
  logLevel?: ServerConfig["logLevel"];
  /** Base of Octokit's retry backoff in ms (see ServerConfig.retryBaseMs). */
  retryBaseMs?: number;
  /** The deadline of one GitHub request in ms (see ServerConfig.requestTimeoutMs). */
  requestTimeoutMs?: number;
}

export interface World {
  root: string;
  sandbox: Sandbox;
  server: RunningServer;
  /** A site administrator (sandbox admin token). */
  admin: Octokit;
  org: string;
  repo: string;
  /** The sandbox's bare repository of acme/gitops on disk. */
  bareRepository: string;
  /** The app's record-signing key pair (armored). */
  recordPublicKey: string;
  recordPrivateKey: string;
  recordKeyFingerprint: string;
  people: Record<CastName, Person>;
  /** A private SSH key nobody trusts. */
  strangerKey: string;
  /** The repository's smart HTTP URL, with token auth when a token is given. */
  remoteUrl(token?: string): string;
  /** The isolated environment every git process of this world runs with. */
  gitEnv: Record<string, string>;
  git(cwd: string, args: string[], env?: Record<string, string>): Promise<GitResult>;
  /** Clones acme/gitops as `who` into a fresh work tree. */
  clone(who: Person): Promise<string>;
  /** Writes files and commits them as `who`, signed with `key` (default: their own), or unsigned with null. */
  commit(
    dir: string,
    who: Person,
    files: Record<string, string>,
    message: string,
    key?: string | null,
  ): Promise<string>;
  push(dir: string, refspec: string, options?: { force?: boolean }): Promise<GitResult>;
  /** Pushes a new branch with one commit by `author` and opens a PR into `base`. */
  openPull(
    author: Person,
    branch: string,
    files: Record<string, string>,
    options?: { base?: string; key?: string | null },
  ): Promise<PullRequestRef>;
  /** Clones as `who`, adds one commit on top of `branch` and pushes it; returns the new head. */
  pushCommit(
    who: Person,
    branch: string,
    files: Record<string, string>,
    message: string,
    options?: { key?: string | null },
  ): Promise<string>;
  review(
    who: Person,
    number: number,
    event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT",
    commitId?: string,
  ): Promise<number>;
  /** Merges a PR through the API (as GitHub's merge button does); returns the commit that landed. */
  merge(who: Person, number: number, method?: "merge" | "squash" | "rebase"): Promise<string>;
  /** pullgate's latest check run on a SHA (after waiting for deliveries to settle). */
  check(sha: string): Promise<CheckView | null>;
  /** The SHA a branch points at, or null if it does not exist. */
  branchHead(branch: string): Promise<string | null>;
  /** Waits until the sandbox delivered every webhook and the app handled it. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const quietLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const root = options.root;
  const sandbox =
    options.sandbox ??
    (await startSandbox({ dir: join(root, "sandbox"), strict: options.sandboxStrict ?? true }));
  const ownsSandbox = options.sandbox === undefined;
  let server: RunningServer | undefined;
  try {
    const home = join(root, "home");
    const keys = join(root, "keys");
    const work = join(root, "work");
    await Promise.all([home, keys, work].map((d) => mkdir(d, { recursive: true })));

    const record = await generateRecordKey({ name: "pullgate demo", email: "pullgate@example.test" });
    server = await startServer({
      appId: sandbox.app.id,
      privateKey: sandbox.app.privateKeyPem,
      webhookSecret: sandbox.app.webhookSecret,
      baseUrl: sandbox.apiUrl,
      port: 0,
      logLevel: options.logLevel ?? "fatal",
      // The sandbox has no secondary rate limit to respect: no 1 s spacing between writes.
      throttle: false,
      ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.signingKey === false ? {} : { signingKey: record.privateKey }),
      app: { pullLookupRetryDelaysMs: [50, 100, 200], evaluationTimeoutMs: 30_000, ...options.app },
    });
    sandbox.setWebhookUrl(server.webhookUrl);
    return await populate(sandbox, server, ownsSandbox, record, { ...options, root, home, keys, work });
  } catch (error) {
    await server?.close();
    if (ownsSandbox) await sandbox.close();
    throw error;
  }
}

async function populate(
  sandbox: Sandbox,
  server: RunningServer,
  ownsSandbox: boolean,
  record: { privateKey: string; publicKey: string; fingerprint: string },
  options: WorldOptions & { home: string; keys: string; work: string },
): Promise<World> {
  const gitEnv = isolatedGitEnv(options.home);
  const octokit = (token: string) => new Octokit({ auth: token, baseUrl: sandbox.apiUrl, log: quietLog });
  const admin = octokit(sandbox.adminToken);
  const repoParams = { owner: ORG, repo: REPO };
  let workCounter = 0;

  async function createUser(login: string): Promise<WorldUser> {
    const email = `${login}@example.test`;
    await admin.request("POST /admin/users", { login, email });
    const { data } = await admin.request("POST /admin/users/{username}/authorizations", {
      username: login,
      scopes: ["repo"],
    });
    const token = (data as { token: string }).token;
    return { login, email, token, octokit: octokit(token) };
  }

  // Everyone gets a key made by ssh-keygen, as a developer would (in parallel: it is the slow part).
  const [users, sshKeys, stranger] = await Promise.all([
    Promise.all(CAST.map((login) => createUser(login))),
    Promise.all(CAST.map((login) => generateSshSigningKey(options.keys, login))),
    generateSshSigningKey(options.keys, "stranger"),
  ]);
  const people = {} as Record<CastName, Person>;
  CAST.forEach((login, i) => {
    const user = users[i];
    const key = sshKeys[i];
    if (user === undefined || key === undefined) throw new Error(`no user or key for ${login}`);
    people[login] = {
      ...user,
      signingKey: key.path,
      allowedSigner: `${user.email} namespaces="git" ${key.publicKey}`,
    };
  });
  const { olivia, alice, bob, carol, mallory } = people;

  await admin.request("POST /admin/organizations", { login: ORG, admin: olivia.login });
  for (const [team, members] of [
    ["platform", [olivia.login]],
    ["sre", [bob.login]],
  ] as const) {
    await olivia.octokit.request("POST /orgs/{org}/teams", { org: ORG, name: team });
    for (const member of members) {
      await olivia.octokit.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: ORG,
        team_slug: team,
        username: member,
      });
    }
  }
  await admin.request("POST /orgs/{org}/repos", { org: ORG, name: REPO, auto_init: true, private: false });
  for (const u of [alice, bob, carol, mallory]) {
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      ...repoParams,
      username: u.login,
      permission: u === carol ? "pull" : "push",
    });
  }

  const git = (cwd: string, args: string[], env: Record<string, string> = {}) =>
    runGit(cwd, args, { ...gitEnv, ...env });

  const world: World = {
    root: options.root,
    sandbox,
    server,
    admin,
    org: ORG,
    repo: REPO,
    bareRepository: join(sandbox.dir, "repos", ORG, `${REPO}.git`),
    recordPublicKey: record.publicKey,
    recordPrivateKey: record.privateKey,
    recordKeyFingerprint: record.fingerprint,
    people,
    strangerKey: stranger.path,
    gitEnv,
    git,
    remoteUrl(token) {
      const url = new URL(`${sandbox.gitUrl}${ORG}/${REPO}.git`);
      if (token !== undefined) {
        url.username = "x-access-token";
        url.password = token;
      }
      return url.toString();
    },
    async clone(who) {
      const dir = join(options.work, `${++workCounter}-${who.login}`);
      const result = await git(options.root, ["clone", "--quiet", world.remoteUrl(who.token), dir]);
      if (result.code !== 0) throw new Error(`git clone failed: ${result.stderr}`);
      return dir;
    },
    async commit(dir, who, files, message, key = who.signingKey) {
      const sign = key === null ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`];
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), content);
      }
      const env = {
        GIT_AUTHOR_NAME: who.login,
        GIT_AUTHOR_EMAIL: who.email,
        GIT_COMMITTER_NAME: who.login,
        GIT_COMMITTER_EMAIL: who.email,
      };
      const add = await git(dir, ["add", "-A"], env);
      if (add.code !== 0) throw new Error(`git add failed: ${add.stderr}`);
      const c = await git(
        dir,
        [...sign, "commit", "--quiet", ...(key === null ? [] : ["-S"]), "-m", message],
        env,
      );
      if (c.code !== 0) throw new Error(`git commit failed: ${c.stderr}`);
      return (await git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    },
    push(dir, refspec, pushOptions = {}) {
      return git(dir, [
        "push",
        "--porcelain",
        ...(pushOptions.force === true ? ["--force"] : []),
        "origin",
        refspec,
      ]);
    },
    async openPull(author, branch, files, pullOptions = {}) {
      const base = pullOptions.base ?? "main";
      const dir = await world.clone(author);
      await git(dir, ["checkout", "-q", "-b", branch, `origin/${base}`]);
      const headSha = await world.commit(
        dir,
        author,
        files,
        `change on ${branch}`,
        pullOptions.key === undefined ? author.signingKey : pullOptions.key,
      );
      const pushed = await world.push(dir, `HEAD:refs/heads/${branch}`);
      if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
      const { data } = await author.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        ...repoParams,
        title: `Change ${branch}`,
        head: branch,
        base,
      });
      await world.settle();
      return { number: data.number, headSha, dir };
    },
    async pushCommit(who, branch, files, message, commitOptions = {}) {
      const dir = await world.clone(who);
      const checkout = await git(dir, ["checkout", "-q", "-B", branch, `origin/${branch}`]);
      if (checkout.code !== 0) throw new Error(`checkout of ${branch} failed: ${checkout.stderr}`);
      const sha = await world.commit(
        dir,
        who,
        files,
        message,
        commitOptions.key === undefined ? who.signingKey : commitOptions.key,
      );
      const pushed = await world.push(dir, `HEAD:refs/heads/${branch}`);
      if (pushed.code !== 0) throw new Error(`push to ${branch} failed: ${pushed.stderr}`);
      await world.settle();
      return sha;
    },
    async review(who, number, event, commitId) {
      const { data } = await who.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        ...repoParams,
        pull_number: number,
        event,
        ...(commitId ? { commit_id: commitId } : {}),
      });
      await world.settle();
      return Number(data.id);
    },
    async merge(who, number, method = "squash") {
      const { data } = await who.octokit.request("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", {
        ...repoParams,
        pull_number: number,
        merge_method: method,
      });
      await world.settle();
      return data.sha;
    },
    async check(sha) {
      await world.settle();
      const { data } = await admin.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        ...repoParams,
        ref: sha,
        check_name: CHECK_NAME,
      });
      const run = [...data.check_runs].sort((a, b) => Number(b.id) - Number(a.id))[0];
      if (!run) return null;
      return {
        id: Number(run.id),
        status: run.status,
        conclusion: run.conclusion,
        title: run.output.title ?? "",
        summary: run.output.summary ?? "",
        text: run.output.text ?? "",
        decision: decodeDecision(run.output.text),
      };
    },
    async branchHead(branch) {
      try {
        const { data } = await admin.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
          ...repoParams,
          ref: `heads/${branch}`,
        });
        return data.object.sha;
      } catch (error) {
        if (httpStatus(error) === 404) return null;
        throw error;
      }
    },
    settle: () => sandbox.idle(),
    async close() {
      await server.close();
      if (ownsSandbox) await sandbox.close();
    },
  };

  // Seed main with the policy, CODEOWNERS and the keyring, as the org owner.
  const seed = await world.clone(olivia);
  await git(seed, ["checkout", "-q", "-B", "main"]);
  await world.commit(
    seed,
    olivia,
    {
      ".github/pullgate.yml": options.policy ?? basePolicy(),
      ".github/CODEOWNERS": options.codeowners ?? BASE_CODEOWNERS,
      [ALLOWED_SIGNERS_PATH]:
        Object.values(people)
          .map((p) => p.allowedSigner)
          .join("\n") + "\n",
      "clusters/prod/app.yaml": "replicas: 2\n",
      "clusters/dev/app.yaml": "replicas: 1\n",
      ...options.seedFiles?.(sandbox),
    },
    "Seed the GitOps repository",
  );
  const pushed = await world.push(seed, "HEAD:refs/heads/main");
  if (pushed.code !== 0) throw new Error(`seed push failed: ${pushed.stderr}`);
  await world.settle();
  return world;
}
