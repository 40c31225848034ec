/**
 * The webhook relay in front of the app replicas, standing in for a load balancer (and for
 * GitHub's own habits: it does not wait for one delivery before sending the next, and it may
 * deliver an event twice). The sandbox delivers to the relay, which answers 202 at once and
 * forwards the exact bytes and headers (so the HMAC still verifies) according to its mode:
 *
 * - `round-robin`: each delivery to the next live replica, immediately;
 * - `duplicate`: each delivery to two different live replicas at the same time;
 * - `hold`: kept until the test calls `release()` (to reorder, duplicate and race them).
 *
 * `hold` can also be scoped to some events (`holdWhile`) while the rest flow round-robin.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CapturedDelivery {
  seq: number;
  event: string;
  action: string | null;
  guid: string;
  headers: Record<string, string>;
  body: string;
}

export interface Forwarded {
  seq: number;
  event: string;
  action: string | null;
  replica: number;
  status: number | null;
  error: string | null;
}

export type RelayMode = "round-robin" | "duplicate" | "hold";

export interface Relay {
  url: string;
  mode: RelayMode;
  /** Deliveries matching this are held whatever the mode (null = none). */
  holdWhile: ((d: CapturedDelivery) => boolean) | null;
  received: CapturedDelivery[];
  held: CapturedDelivery[];
  forwarded: Forwarded[];
  /** Replica indexes that are "down": the relay does not route to them. */
  down: Set<number>;
  /** Forwards one delivery to one replica (awaits its answer). */
  forward(d: CapturedDelivery, replica: number): Promise<Forwarded>;
  /**
   * Forwards what is held: each delivery `copies` times to distinct live replicas, in `order`
   * (default: arrival), at most `concurrency` requests in flight. Returns when all are answered.
   */
  release(options?: {
    order?: (list: CapturedDelivery[]) => CapturedDelivery[];
    copies?: number;
    concurrency?: number;
    filter?: (d: CapturedDelivery) => boolean;
  }): Promise<Forwarded[]>;
  inFlight(): number;
  /** Resolves when nothing is being forwarded. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const FORWARDED_HEADERS = [
  "content-type",
  "user-agent",
  "x-github-event",
  "x-github-delivery",
  "x-github-hook-id",
  "x-github-hook-installation-target-type",
  "x-github-hook-installation-target-id",
  "x-hub-signature",
  "x-hub-signature-256",
];

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startRelay(targets: () => string[], mode: RelayMode = "round-robin"): Promise<Relay> {
  let next = 0;
  let seq = 0;
  let active = 0;
  let waiters: (() => void)[] = [];
  const settleWaiters = () => {
    if (active !== 0) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };

  const live = (): number[] => targets().flatMap((_, i) => (relay.down.has(i) ? [] : [i]));
  const pick = (count: number): number[] => {
    const alive = live();
    if (alive.length === 0) return [];
    const chosen: number[] = [];
    for (let i = 0; i < Math.min(count, alive.length); i++) {
      chosen.push(alive[(next + i) % alive.length] as number);
    }
    next++;
    return chosen;
  };

  const relay: Relay = {
    url: "",
    mode,
    holdWhile: null,
    received: [],
    held: [],
    forwarded: [],
    down: new Set(),
    async forward(d, replica) {
      active++;
      const result: Forwarded = {
        seq: d.seq,
        event: d.event,
        action: d.action,
        replica,
        status: null,
        error: null,
      };
      try {
        const url = targets()[replica];
        if (url === undefined) throw new Error(`no replica ${replica}`);
        const response = await fetch(url, {
          method: "POST",
          headers: d.headers,
          body: d.body,
          signal: AbortSignal.timeout(120_000),
        });
        await response.arrayBuffer();
        result.status = response.status;
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error);
      } finally {
        relay.forwarded.push(result);
        active--;
        settleWaiters();
      }
      return result;
    },
    async release(options = {}) {
      const filter = options.filter ?? (() => true);
      const chosen = relay.held.filter(filter);
      relay.held = relay.held.filter((d) => !filter(d));
      const ordered = options.order ? options.order(chosen) : chosen;
      const jobs: (() => Promise<Forwarded>)[] = [];
      for (const d of ordered) {
        for (const replica of pick(options.copies ?? 1)) jobs.push(() => relay.forward(d, replica));
      }
      const results: Forwarded[] = [];
      const width = Math.max(1, options.concurrency ?? jobs.length);
      let index = 0;
      const worker = async () => {
        while (index < jobs.length) {
          const job = jobs[index++];
          if (job) results.push(await job());
        }
      };
      await Promise.all(Array.from({ length: width }, worker));
      return results;
    },
    inFlight: () => active,
    idle: () => (active === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = req.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const parsed = JSON.parse(body) as { action?: unknown };
      const d: CapturedDelivery = {
        seq: ++seq,
        event: headers["x-github-event"] ?? "",
        action: typeof parsed.action === "string" ? parsed.action : null,
        guid: headers["x-github-delivery"] ?? "",
        headers,
        body,
      };
      relay.received.push(d);
      // Accepted at once, as a queueing load balancer would: the sandbox moves on to the next event.
      res.writeHead(202);
      res.end();
      if (relay.mode === "hold" || relay.holdWhile?.(d) === true) {
        relay.held.push(d);
        return;
      }
      const replicas = pick(relay.mode === "duplicate" ? 2 : 1);
      await Promise.all(replicas.map((r) => relay.forward(d, r)));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return relay;
}
