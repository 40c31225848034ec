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
} from "../../src/demo/world.js";
import type { RunningServer } from "../../src/server.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "./sandbox.js";

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
}

export async function startAppHarness(
  options: { policy?: string; codeowners?: string; signingKey?: boolean } = {},
): Promise<AppHarness> {
  const t = await startTestSandbox();
  let world: World;
  try {
    world = await startWorld({ root: t.root, sandbox: t.sandbox, ...options });
  } catch (error) {
    await t.close();
    throw error;
  }
  return {
    t,
    world,
    server: world.server,
    recordPublicKey: world.recordPublicKey,
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
  };
}
