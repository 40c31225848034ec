import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planRedeliveries, type DeliveryItem } from "./redeliver.js";

const SINCE = new Date("2026-12-01T10:00:00Z");
const AFTER = "2026-12-01T10:05:00Z";
const BEFORE = "2026-12-01T09:55:00Z";

function attempt(id: number, guid: string, status: number, at = AFTER, redelivery = false): DeliveryItem {
  return { id, guid, delivered_at: at, redelivery, status_code: status };
}

describe("planRedeliveries", () => {
  it("asks again for an event whose only attempt failed, by its newest attempt", () => {
    const plan = planRedeliveries([attempt(1, "a", 502), attempt(2, "a", 0, AFTER, true)], SINCE, 3);
    expect(plan.redeliver.map((d) => d.id)).toEqual([2]);
    expect(plan.givenUp).toEqual([]);
  });

  it("leaves an event alone once any attempt succeeded, whatever came after", () => {
    // A 202 then a failed redelivery: the event was handled; the ledger would drop a copy anyway,
    // but asking costs a request.
    const plan = planRedeliveries([attempt(1, "a", 202), attempt(2, "a", 500, AFTER, true)], SINCE, 3);
    expect(plan.redeliver).toEqual([]);
  });

  it("skips failures older than the window: an earlier sweep already asked for them", () => {
    const plan = planRedeliveries([attempt(1, "a", 500, BEFORE)], SINCE, 3);
    expect(plan).toEqual({ redeliver: [], givenUp: [] });
  });

  it("judges the window by the newest attempt, not the first", () => {
    const plan = planRedeliveries(
      [attempt(1, "a", 500, BEFORE), attempt(2, "a", 500, AFTER, true)],
      SINCE,
      3,
    );
    expect(plan.redeliver.map((d) => d.id)).toEqual([2]);
  });

  it("gives up after maxAttempts and says which event", () => {
    const items = [attempt(1, "a", 500), attempt(2, "a", 500, AFTER, true), attempt(3, "a", 0, AFTER, true)];
    const plan = planRedeliveries(items, SINCE, 3);
    expect(plan.redeliver).toEqual([]);
    expect(plan.givenUp).toEqual(["a"]);
  });

  it("counts a 3xx or 4xx answer as a failure (only 2xx means handled)", () => {
    const plan = planRedeliveries([attempt(1, "a", 302), attempt(2, "b", 404)], SINCE, 3);
    expect(plan.redeliver.map((d) => d.guid)).toEqual(["a", "b"]);
  });

  it("orders redeliveries oldest first, so events are re-handled in the order they happened", () => {
    const plan = planRedeliveries([attempt(9, "late", 500), attempt(4, "early", 500)], SINCE, 3);
    expect(plan.redeliver.map((d) => d.guid)).toEqual(["early", "late"]);
  });

  it("property: at most one redelivery per event, never for a handled one, never past maxAttempts", () => {
    const item = fc.record({
      id: fc.integer({ min: 1, max: 60 }),
      guid: fc.constantFrom("a", "b", "c", "d"),
      delivered_at: fc.constantFrom(BEFORE, AFTER),
      redelivery: fc.boolean(),
      status_code: fc.constantFrom(0, 200, 202, 404, 500, 502),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(item, { selector: (d) => d.id, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        (items, maxAttempts) => {
          const plan = planRedeliveries(items, SINCE, maxAttempts);
          const guids = plan.redeliver.map((d) => d.guid);
          expect(new Set(guids).size).toBe(guids.length);
          for (const chosen of plan.redeliver) {
            const attempts = items.filter((d) => d.guid === chosen.guid);
            expect(attempts.every((d) => d.status_code < 200 || d.status_code >= 300)).toBe(true);
            expect(attempts.length).toBeLessThan(maxAttempts);
            expect(chosen.id).toBe(Math.max(...attempts.map((d) => d.id)));
            expect(Date.parse(chosen.delivered_at)).toBeGreaterThanOrEqual(SINCE.getTime());
          }
          for (const guid of plan.givenUp) expect(guids).not.toContain(guid);
        },
      ),
    );
  });
});
