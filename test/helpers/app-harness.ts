/**
 * End-to-end harness: the demo world (src/demo/world.ts: the local GitHub sandbox plus the real
 * pullgate Probot server over HTTP, people with SSH signing keys, org `acme`, repo `acme/gitops`
 * seeded with a policy) started inside a test sandbox, so tests also get the sandbox helpers
 * (`t`). The logic lives in the world; this file only adapts it to the tests' API.
 */
import {
  startWorld,
  type CheckView as WorldCheckView,
  type Person as WorldPerson,
  type World,
  type WorldOptions,
} from "../../src/demo/world.js";
import { randomUUID } from "node:crypto";
import { signWebhookBody } from "@pullgate/sandbox";
import type { RunningServer } from "../../src/server.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";

import { ORG, REPO } from "../../src/demo/seed.js";
export { ORG, REPO, BASE_CODEOWNERS, basePolicy } from "../../src/demo/seed.js";

export interface Person extends TestUser, WorldPerson {}

export type CheckView = WorldCheckView;

export interface AppHarness {
  t: TestSandbox;
  /** The world the harness runs in (everything below delegates to it). */
  world: World;
  server: RunningServer;
  /** The app's record-signing public key (armored). */
  recordPublicKey: string;
  /** Its private key, to start another replica that signs with the same key. */
  recordPrivateKey: string;
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
  /** More files seeded on main, from the running sandbox (see WorldOptions.seedFiles). */
  seedFiles?: WorldOptions["seedFiles"];
  signingKey?: boolean;
  /** The app's evaluation deadline (default 30 s); fault tests shrink it to see timeouts fail closed. */
  evaluationTimeoutMs?: number;
  /** Base of Octokit's retry backoff in ms (GitHub default 1,000 = waits of 1, 4, 9 s); default 20 here. */
  retryBaseMs?: number;
  /** The deadline of one GitHub request in ms (default 30 s); fault tests shrink it. */
  requestTimeoutMs?: number;
  /** The app's clock (default the real one); refresh tests move it forward. */
  now?: () => Date;
  /** Probot's log level (default "fatal"); tests that inspect the logs raise it. */
  logLevel?: WorldOptions["logLevel"];
}

export async function startAppHarness(options: AppHarnessOptions = {}): Promise<AppHarness> {
  const t = await startTestSandbox();
  let world: World;
  const { evaluationTimeoutMs, retryBaseMs, now, ...seed } = options;
  try {
    world = await startWorld({
      root: t.root,
      sandbox: t.sandbox,
      ...seed,
      retryBaseMs: retryBaseMs ?? 20,
      ...(evaluationTimeoutMs !== undefined || now !== undefined
        ? {
            app: {
              ...(evaluationTimeoutMs !== undefined ? { evaluationTimeoutMs } : {}),
              ...(now !== undefined ? { now } : {}),
            },
          }
        : {}),
    });
  } catch (error) {
    await t.close();
    throw error;
  }
  const installation = Object.values(t.sandbox.state.installations).find((i) => i.account === ORG);
  if (!installation) throw new Error(`the app is not installed on ${ORG}`);
  const harness: AppHarness = {
    t,
    world,
    server: world.server,
    recordPublicKey: world.recordPublicKey,
    recordPrivateKey: world.recordPrivateKey,
    people: world.people,
    strangerKey: world.strangerKey,
    clone: (who) => world.clone(who),
    commit: (dir, who, files, message, key) => world.commit(dir, who, files, message, key),
    openPull: (author, branch, files, opts) => world.openPull(author, branch, files, opts),
    review: (who, number, event, commitId) => world.review(who, number, event, commitId),
    check: (sha) => world.check(sha),
    settle: () => world.settle(),
    async close() {
      await world.close();
      await t.close();
    },
    installationId: installation.id,
    async rerequest(sha, who = world.people.olivia) {
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
      const response = await fetch(world.server.webhookUrl, {
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
  };
  return harness;
}
