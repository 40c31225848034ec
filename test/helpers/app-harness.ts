/**
 * End-to-end harness: the local GitHub sandbox plus the real pullgate Probot server over HTTP,
 * wired like GitHub Enterprise Server (the sandbox POSTs HMAC-signed webhooks to the server; the
 * server calls the sandbox's REST API with installation tokens). One org `acme` with a GitOps repo
 * `acme/gitops`, users with SSH signing keys, a team, and a policy seeded on `main`.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateRecordKey } from "../../src/record/index.js";
import { signWebhookBody } from "../../src/sandbox/index.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "./sandbox.js";

export const ORG = "acme";
export const REPO = "gitops";

export interface Person extends TestUser {
  /** Private SSH key path this person signs commits with. */
  signingKey: string;
  /** Their allowed_signers line. */
  allowedSigner: string;
}

export interface CheckView {
  id: number;
  status: string;
  conclusion: string | null;
  title: string;
  summary: string;
  text: string;
}

export interface AppHarness {
  t: TestSandbox;
  server: RunningServer;
  /** The app's record-signing public key (armored). */
  recordPublicKey: string;
  people: Record<"olivia" | "alice" | "bob" | "carol" | "mallory", Person>;
  /** A key nobody trusts. */
  strangerKey: string;
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
  /** Pushes a new branch with one commit by `author` and opens a PR into `base`. */
  openPull(
    author: Person,
    branch: string,
    files: Record<string, string>,
    options?: { base?: string; key?: string | null },
  ): Promise<{ number: number; headSha: string; dir: string }>;
  review(
    who: Person,
    number: number,
    event: "APPROVE" | "REQUEST_CHANGES" | "COMMENT",
    commitId?: string,
  ): Promise<number>;
  /** pullgate's latest check run on a SHA (after waiting for deliveries to settle). */
  check(sha: string): Promise<CheckView | null>;
  settle(): Promise<void>;
  close(): Promise<void>;
  /** Asks GitHub to re-run pullgate's latest check on `sha` (`check_run.rerequested`), as `who` (default olivia). */
  rerequest(sha: string, who?: Person): Promise<void>;
  /**
   * POSTs a webhook straight to the app's webhook URL, HMAC-signed with the app's secret unless a
   * `signature` is given (to forge one). Returns the HTTP status the app answered.
   */
  deliver(event: string, payload: Record<string, unknown>, options?: { signature?: string }): Promise<number>;
  /** The app's installation id on the org (webhook payloads carry it). */
  installationId: number;
}

export interface AppHarnessOptions {
  policy?: string;
  codeowners?: string;
  signingKey?: boolean;
  /** The app's evaluation deadline (default 30 s); fault tests shrink it to see timeouts fail closed. */
  evaluationTimeoutMs?: number;
  /** Base of Octokit's retry backoff in ms (GitHub default 1,000 = waits of 1, 4, 9 s); default 20 here. */
  retryBaseMs?: number;
}

/** The trusted-key policy every e2e test starts from: SSH keys in the repo, a team owning prod. */
export function basePolicy(extra = ""): string {
  return [
    "version: 1",
    'admins: ["@acme/platform"]',
    "defaults:",
    "  signatures:",
    "    required: true",
    "    openpgp_keyrings: []",
    '    ssh_allowed_signers: ".github/pullgate/allowed_signers"',
    "  reviews:",
    "    required_approvals: 1",
    "    require_code_owner_review: true",
    "    dismiss_stale_approvals: true",
    "  protection:",
    "    mode: off",
    "branches:",
    "  - branch: main",
    "    environment: production",
    extra,
  ].join("\n");
}

export const BASE_CODEOWNERS = ["* @acme/platform", "/clusters/prod/ @acme/sre", ""].join("\n");

function sshKey(dir: string, name: string): { path: string; publicKey: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return { path, publicKey: readFileSync(`${path}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ") };
}

export async function startAppHarness(options: AppHarnessOptions = {}): Promise<AppHarness> {
  const t = await startTestSandbox();
  const keys = join(t.root, "keys");
  mkdirSync(keys, { recursive: true });
  const record = await generateRecordKey({ name: "pullgate test", email: "pullgate@example.test" });
  const server = await startServer({
    appId: t.sandbox.app.id,
    privateKey: t.sandbox.app.privateKeyPem,
    webhookSecret: t.sandbox.app.webhookSecret,
    baseUrl: t.sandbox.apiUrl,
    port: 0,
    logLevel: "fatal",
    ...(options.signingKey === false ? {} : { signingKey: record.privateKey }),
    retryBaseMs: options.retryBaseMs ?? 20,
    // One write per second per installation is GitHub's guidance; the sandbox needs no such care.
    throttle: false,
    app: {
      pullLookupRetryDelaysMs: [50, 100, 200],
      evaluationTimeoutMs: options.evaluationTimeoutMs ?? 30_000,
    },
  });
  t.sandbox.setWebhookUrl(server.webhookUrl);

  const people = {} as AppHarness["people"];
  for (const login of ["olivia", "alice", "bob", "carol", "mallory"] as const) {
    const user = await t.createUser(login);
    const key = sshKey(keys, login);
    people[login] = {
      ...user,
      signingKey: key.path,
      allowedSigner: `${user.email} namespaces="git" ${key.publicKey}`,
    };
  }
  const stranger = sshKey(keys, "stranger");
  const { olivia, alice, bob, carol, mallory } = people;
  const { installationId } = await t.createOrg(ORG, olivia.login);
  for (const [team, members] of [
    ["platform", [olivia.login]],
    ["sre", [bob.login]],
  ] as const) {
    await olivia.octokit.request("POST /orgs/{org}/teams", { org: ORG, name: team });
    for (const m of members) {
      await olivia.octokit.request("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", {
        org: ORG,
        team_slug: team,
        username: m,
      });
    }
  }
  await t.createRepo(ORG, REPO);
  for (const u of [alice, bob, carol, mallory]) {
    await olivia.octokit.request("PUT /repos/{owner}/{repo}/collaborators/{username}", {
      owner: ORG,
      repo: REPO,
      username: u.login,
      permission: u === carol ? "pull" : "push",
    });
  }

  const harness: AppHarness = {
    t,
    server,
    recordPublicKey: record.publicKey,
    people,
    strangerKey: stranger.path,
    clone: (who) => t.clone(ORG, REPO, who.token),
    async commit(dir, who, files, message, key = who.signingKey) {
      const sign = key === null ? [] : ["-c", "gpg.format=ssh", "-c", `user.signingkey=${key}`];
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      const env = {
        GIT_AUTHOR_NAME: who.login,
        GIT_AUTHOR_EMAIL: who.email,
        GIT_COMMITTER_NAME: who.login,
        GIT_COMMITTER_EMAIL: who.email,
      };
      const add = await t.git(dir, ["add", "-A"], env);
      if (add.code !== 0) throw new Error(add.stderr);
      const c = await t.git(
        dir,
        [...sign, "commit", "--quiet", ...(key === null ? [] : ["-S"]), "-m", message],
        env,
      );
      if (c.code !== 0) throw new Error(`git commit failed: ${c.stderr}`);
      return (await t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    },
    async openPull(author, branch, files, opts = {}) {
      const dir = await harness.clone(author);
      await t.git(dir, ["checkout", "-q", "-b", branch, `origin/${opts.base ?? "main"}`]);
      const headSha = await harness.commit(
        dir,
        author,
        files,
        `change on ${branch}`,
        opts.key === undefined ? author.signingKey : opts.key,
      );
      const push = await t.push(dir, `HEAD:refs/heads/${branch}`);
      if (push.code !== 0) throw new Error(`push failed: ${push.stderr}`);
      const { data } = await author.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: ORG,
        repo: REPO,
        title: `Change ${branch}`,
        head: branch,
        base: opts.base ?? "main",
      });
      await harness.settle();
      return { number: data.number, headSha, dir };
    },
    async review(who, number, event, commitId) {
      const { data } = await who.octokit.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        owner: ORG,
        repo: REPO,
        pull_number: number,
        event,
        ...(commitId ? { commit_id: commitId } : {}),
      });
      await harness.settle();
      return Number(data.id);
    },
    async check(sha) {
      await harness.settle();
      const { data } = await olivia.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
        owner: ORG,
        repo: REPO,
        ref: sha,
        check_name: "pullgate",
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
      };
    },
    settle: () => t.idle(),
    installationId,
    async rerequest(sha, who = olivia) {
      const run = await harness.check(sha);
      if (!run) throw new Error(`no pullgate check on ${sha}`);
      await who.octokit.request("POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", {
        owner: ORG,
        repo: REPO,
        check_run_id: run.id,
      });
      await harness.settle();
    },
    async deliver(event, payload, opts = {}) {
      const body = JSON.stringify(payload);
      const response = await fetch(server.webhookUrl, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": opts.signature ?? signWebhookBody(t.sandbox.app.webhookSecret, body),
        },
      });
      await response.arrayBuffer();
      await harness.settle();
      return response.status;
    },
    async close() {
      await server.close();
      await t.close();
    },
  };

  // Seed main with the policy, CODEOWNERS and the keyring, as the org admin, before protection.
  const seed = await harness.clone(olivia);
  await t.git(seed, ["checkout", "-q", "-B", "main"]);
  await harness.commit(
    seed,
    olivia,
    {
      ".github/pullgate.yml": options.policy ?? basePolicy(),
      ".github/CODEOWNERS": options.codeowners ?? BASE_CODEOWNERS,
      ".github/pullgate/allowed_signers":
        Object.values(people)
          .map((p) => p.allowedSigner)
          .join("\n") + "\n",
      "clusters/prod/app.yaml": "replicas: 2\n",
      "clusters/dev/app.yaml": "replicas: 1\n",
    },
    "Seed the GitOps repository",
  );
  const pushed = await t.push(seed, "HEAD:refs/heads/main");
  if (pushed.code !== 0) throw new Error(`seed push failed: ${pushed.stderr}`);
  await harness.settle();
  return harness;
}
