/**
 * The types the record publisher's parts share: what handlePush (publish.ts) and the record-ref
 * watch (record-push.ts) return, what they need, and the signer. Their own module, so that
 * neither part imports the other for a type.
 */
import type { PrivateKey } from "openpgp";
import type { Logger } from "probot";
import type { RecordIdentity } from "../../record/index.js";
import type { PullgateMetrics } from "../../metrics.js";

export interface RecordSigner {
  key: PrivateKey;
  fingerprint: string;
  identity: RecordIdentity;
}

export interface PublishDeps {
  appId: number;
  /** The login the app writes issues and comments as (`<slug>[bot]`): only its own alert issue is reused. */
  appLogin: () => Promise<string>;
  signer: RecordSigner | null;
  log: Logger;
  metrics: PullgateMetrics;
  /** Delays between asks of `commits/{sha}/pulls`, which GitHub can answer late. */
  pullLookupRetryDelaysMs: readonly number[];
  /** Compare-and-swap attempts before giving up (each re-reads the ref). */
  maxPublishAttempts: number;
  now: () => Date;
}

export interface PushEvent {
  ref: string;
  before: string;
  after: string;
  deleted: boolean;
  pusher: string;
  /** The repository's default branch: a record ref's creation is judged by the policy there. */
  defaultBranch?: string;
}

export type PushOutcome =
  | { kind: "ignored"; why: string }
  | {
      kind: "published";
      environment: string;
      sequence: number;
      record: string;
      pullRequest: number;
      /** Set when the record ref had been tampered with and this publication restored the chain. */
      restored?: string;
    }
  | { kind: "duplicate"; environment: string; record: string }
  | { kind: "stale"; environment: string; why: string }
  | { kind: "alerted"; environment: string; reason: string; issue: number }
  | { kind: "unsigned"; environment: string };
