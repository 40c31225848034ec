import { createHmac, randomUUID } from "node:crypto";

/** One webhook delivery, as the sandbox logs it (GitHub's delivery log, simplified). */
export interface Delivery {
  id: number;
  guid: string;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  payload: Record<string, unknown>;
  delivered_at: string | null;
  /** HTTP status the receiver answered; null if it was not reached or no URL is set. */
  status_code: number | null;
  status: string;
  duration_ms: number | null;
  redelivery: boolean;
}

export type DeliveryListener = (delivery: Delivery) => void;

/** GitHub's `X-Hub-Signature-256` value for a body. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Webhook deliveries, one at a time in order (so tests are deterministic), each POSTed to the
 * app's webhook URL with GitHub's headers and HMAC. `idle()` resolves when nothing is queued or
 * in flight.
 */
export class WebhookQueue {
  private readonly log: Delivery[] = [];
  private readonly pending: Delivery[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners = new Set<DeliveryListener>();
  /** Work outside the queue that will enqueue deliveries (a push being post-processed). */
  private holds = 0;

  constructor(
    private readonly options: {
      url: () => string | undefined;
      secret: string;
      appId: number;
      nextId: () => number;
      now: () => string;
      timeoutMs?: number;
      /** Sees every payload as it is queued (the contract check of webhooks, contract/contract.ts). */
      inspect?: (event: string, payload: Record<string, unknown>) => void;
    },
  ) {}

  /** Signs and labels later deliveries as another app's (one registered from a manifest). */
  setApp(appId: number, secret: string): void {
    this.options.appId = appId;
    this.options.secret = secret;
  }

  enqueue(event: string, payload: Record<string, unknown>): Delivery {
    this.options.inspect?.(event, payload);
    const installation = payload.installation as { id?: number } | undefined;
    const repository = payload.repository as { id?: number } | undefined;
    const delivery: Delivery = {
      id: this.options.nextId(),
      guid: randomUUID(),
      event,
      action: typeof payload.action === "string" ? payload.action : null,
      installation_id: installation?.id ?? null,
      repository_id: repository?.id ?? null,
      payload,
      delivered_at: null,
      status_code: null,
      status: "queued",
      duration_ms: null,
      redelivery: false,
    };
    this.log.push(delivery);
    this.pending.push(delivery);
    void this.drain();
    return delivery;
  }

  redeliver(id: number): Delivery | undefined {
    const original = this.log.find((d) => d.id === id);
    if (original === undefined) return undefined;
    const copy: Delivery = {
      ...original,
      id: this.options.nextId(),
      guid: original.guid,
      delivered_at: null,
      status_code: null,
      status: "queued",
      duration_ms: null,
      redelivery: true,
    };
    this.log.push(copy);
    this.pending.push(copy);
    void this.drain();
    return copy;
  }

  deliveries(): readonly Delivery[] {
    return this.log;
  }

  onDelivery(listener: DeliveryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Keeps `idle()` pending while work that will enqueue deliveries is under way. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.wake();
    };
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.running && this.pending.length === 0 && this.holds === 0;
  }

  private wake(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        await this.deliver(next);
        for (const listener of this.listeners) {
          try {
            listener(next);
          } catch {
            /* a listener's bug must not stop deliveries */
          }
        }
      }
    } finally {
      this.running = false;
      this.wake();
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const url = this.options.url();
    delivery.delivered_at = this.options.now();
    if (url === undefined) {
      delivery.status = "no webhook URL configured";
      return;
    }
    const body = JSON.stringify(delivery.payload);
    const started = Date.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/sandbox",
          "x-github-event": delivery.event,
          "x-github-delivery": delivery.guid,
          "x-github-hook-id": "1",
          "x-github-hook-installation-target-type": "integration",
          "x-github-hook-installation-target-id": String(this.options.appId),
          "x-hub-signature": `sha1=${createHmac("sha1", this.options.secret).update(body).digest("hex")}`,
          "x-hub-signature-256": signWebhookBody(this.options.secret, body),
        },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer();
      delivery.status_code = response.status;
      delivery.status = response.ok ? "OK" : `HTTP ${response.status}`;
    } catch (error) {
      delivery.status = error instanceof Error ? `failed: ${error.message}` : "failed";
    }
    delivery.duration_ms = Date.now() - started;
  }
}
