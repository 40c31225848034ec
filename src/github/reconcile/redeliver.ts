/**
 * Webhook redelivery (docs/operations.md, "Outages and recovery"): GitHub does not redeliver a
 * failed delivery by itself. The app lists its recent deliveries with its JWT, finds the events
 * (by guid) whose every attempt failed, and asks for one more attempt of each, as GitHub's guide
 * for apps recommends. A redelivery keeps the guid, so the delivery ledger still drops a second
 * copy of an event that was handled after all.
 */
import type { GitHub } from "../octokit.js";

export interface DeliveryItem {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
}

export interface RedeliveryPlan {
  /** The newest failed attempt of each event to redeliver. */
  redeliver: DeliveryItem[];
  /** Events whose attempts all failed but that already had `maxAttempts` of them. */
  givenUp: string[];
}

const succeeded = (d: DeliveryItem) => d.status_code >= 200 && d.status_code < 300;

/**
 * The events to redeliver among `items`: every attempt failed, the newest one at or after
 * `since` (older failures were already asked for, or predate the window), fewer than `maxAttempts`
 * attempts. Pure.
 */
export function planRedeliveries(
  items: readonly DeliveryItem[],
  since: Date,
  maxAttempts: number,
): RedeliveryPlan {
  const byGuid = new Map<string, DeliveryItem[]>();
  for (const item of items) {
    const list = byGuid.get(item.guid) ?? [];
    list.push(item);
    byGuid.set(item.guid, list);
  }
  const plan: RedeliveryPlan = { redeliver: [], givenUp: [] };
  for (const [guid, attempts] of byGuid) {
    if (attempts.some(succeeded)) continue;
    const newest = attempts.reduce((a, b) => (b.id > a.id ? b : a));
    if (Date.parse(newest.delivered_at) < since.getTime()) continue;
    if (attempts.length >= maxAttempts) {
      plan.givenUp.push(guid);
      continue;
    }
    plan.redeliver.push(newest);
  }
  plan.redeliver.sort((a, b) => a.id - b.id);
  return plan;
}

/**
 * Lists deliveries newer than `since` (newest first, stopping at the first older page) and asks
 * for a redelivery of each event that only failed. Cost: one request per 100 deliveries listed
 * plus one per redelivery. Returns how many were requested.
 */
export async function redeliverFailed(
  appGh: GitHub,
  since: Date,
  options: { maxAttempts: number; maxPages: number },
): Promise<{ requested: number; givenUp: string[] }> {
  const items: DeliveryItem[] = [];
  let pages = 0;
  for await (const page of appGh.paginate.iterator(appGh.rest.apps.listWebhookDeliveries, {
    per_page: 100,
  })) {
    pages++;
    const data = page.data as DeliveryItem[];
    items.push(...data);
    const oldest = data.at(-1);
    if (oldest === undefined || Date.parse(oldest.delivered_at) < since.getTime()) break;
    if (pages >= options.maxPages) break;
  }
  const plan = planRedeliveries(items, since, options.maxAttempts);
  let requested = 0;
  for (const item of plan.redeliver) {
    await appGh.rest.apps.redeliverWebhookDelivery({ delivery_id: item.id });
    requested++;
  }
  return { requested, givenUp: plan.givenUp };
}
