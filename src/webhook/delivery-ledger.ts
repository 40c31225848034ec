import { randomUUID } from "node:crypto";

/**
 * Which webhook deliveries were already handled, by `X-GitHub-Delivery` id, so a replayed delivery
 * is acknowledged without effect (docs/threat-model.md, "The webhook endpoint"). An id is claimed
 * only after the HMAC verified (unsigned requests cannot poison ids), and the claim is a lease:
 *
 * - claimed → the handlers run; the lease is renewed while they do;
 * - handlers succeed → the id is remembered as handled for the window: replays are dropped;
 * - handlers fail → the claim is released: GitHub's redelivery (same id) is handled again;
 * - the replica dies mid-handling → its lease lapses (no renewals), and a redelivery after that
 *   is handled again instead of being dropped for the whole window.
 *
 * Two stores: in memory (bounded size and age, one process) and Redis (shared by replicas).
 */

export type ClaimResult =
  | { kind: "claimed"; lease: DeliveryLease }
  /** Handled successfully inside the window: a replay. */
  | { kind: "handled" }
  /** Being handled right now, here or by another replica. */
  | { kind: "in-flight" };

export interface DeliveryLease {
  /** The handlers succeeded: remember the id as handled for the window. */
  complete(): Promise<void>;
  /** The handlers failed: forget the claim, so a redelivery is handled again. */
  release(): Promise<void>;
}

/** The store's primitive operations; every one is compare-and-set on the claimant's token. */
export interface LedgerStore {
  /** Claims `id` for `leaseMs` unless someone holds or handled it. */
  tryClaim(id: string, token: string, leaseMs: number): Promise<"claimed" | "handled" | "in-flight">;
  /** Extends our lease; false when it is no longer ours. */
  renew(id: string, token: string, leaseMs: number): Promise<boolean>;
  /** Marks handled for `windowMs`, if the claim is still ours or lapsed unclaimed. */
  complete(id: string, token: string, windowMs: number): Promise<void>;
  /** Drops the claim if it is still ours. */
  release(id: string, token: string): Promise<void>;
  close(): Promise<void>;
}

export interface LedgerOptions {
  /** How long a handled id is remembered (default 72 h: GitHub redelivers deliveries of the past 3 days). */
  windowMs?: number;
  /** How long a claim holds without renewal (default 60 s); renewed every third of it. */
  leaseMs?: number;
  /** Called when a renewal fails (the store is down): the claim may lapse early. */
  onRenewError?: (error: unknown, id: string) => void;
}

export const DEFAULT_REPLAY_WINDOW_MS = 72 * 60 * 60 * 1000;
export const DEFAULT_LEASE_MS = 60_000;

export class DeliveryLedger {
  readonly windowMs: number;
  readonly leaseMs: number;

  constructor(
    private readonly store: LedgerStore,
    private readonly options: LedgerOptions = {},
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Rejects when the store cannot answer: the caller must not handle the delivery then. */
  async claim(id: string): Promise<ClaimResult> {
    const token = randomUUID();
    const outcome = await this.store.tryClaim(id, token, this.leaseMs);
    if (outcome !== "claimed") return { kind: outcome };
    const timer = setInterval(
      () => {
        this.store.renew(id, token, this.leaseMs).then(
          (ours) => {
            if (!ours) clearInterval(timer);
          },
          (error: unknown) => this.options.onRenewError?.(error, id),
        );
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    let settled = false;
    const settle = async (op: () => Promise<void>) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      await op();
    };
    return {
      kind: "claimed",
      lease: {
        complete: () => settle(() => this.store.complete(id, token, this.windowMs)),
        release: () => settle(() => this.store.release(id, token)),
      },
    };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

interface MemoryEntry {
  /** "p:<token>" while claimed, "h" once handled. */
  value: string;
  expiresAt: number;
}

/**
 * One process's ledger: a Map in insertion order used as an LRU, bounded in size (oldest entries
 * go first) and in age (expired entries are dropped when met, and from the oldest end on every
 * claim). A bounded size means a flood of genuine deliveries can push an id out early: the
 * handlers stay idempotent for that case (docs/operations.md, "Webhook endpoint").
 */
export class MemoryLedgerStore implements LedgerStore {
  private readonly entries = new Map<string, MemoryEntry>();

  constructor(
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  private live(id: string): MemoryEntry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private set(id: string, value: string, ttlMs: number): void {
    // Re-inserting moves the id to the young end of the LRU.
    this.entries.delete(id);
    this.entries.set(id, { value, expiresAt: this.now() + ttlMs });
    this.prune();
  }

  private prune(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (this.entries.size > this.maxEntries || entry.expiresAt <= now) this.entries.delete(id);
      else break;
    }
  }

  async tryClaim(id: string, token: string, leaseMs: number): Promise<"claimed" | "handled" | "in-flight"> {
    const entry = this.live(id);
    if (entry !== undefined) return entry.value === "h" ? "handled" : "in-flight";
    this.set(id, `p:${token}`, leaseMs);
    return "claimed";
  }

  async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
    const entry = this.live(id);
    if (entry?.value !== `p:${token}`) return false;
    entry.expiresAt = this.now() + leaseMs;
    return true;
  }

  async complete(id: string, token: string, windowMs: number): Promise<void> {
    const entry = this.live(id);
    if (entry === undefined || entry.value === `p:${token}`) this.set(id, "h", windowMs);
  }

  async release(id: string, token: string): Promise<void> {
    if (this.live(id)?.value === `p:${token}`) this.entries.delete(id);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
