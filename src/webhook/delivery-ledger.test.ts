import { describe, expect, it } from "vitest";
import { DeliveryLedger, MemoryLedgerStore } from "./delivery-ledger.js";

/** A store on a hand-driven clock: ages and leases are tested without waiting. */
function clocked(maxEntries = 100) {
  let now = 1_000_000;
  const store = new MemoryLedgerStore(maxEntries, () => now);
  return { store, advance: (ms: number) => (now += ms) };
}

describe("delivery ledger (memory)", () => {
  it("a handled id is a replay for the window, and handled again after it", async () => {
    const { store, advance } = clocked();
    const ledger = new DeliveryLedger(store, { windowMs: 10_000, leaseMs: 1_000 });
    const first = await ledger.claim("a");
    expect(first.kind).toBe("claimed");
    if (first.kind === "claimed") await first.lease.complete();
    advance(9_999);
    expect((await ledger.claim("a")).kind).toBe("handled");
    advance(1);
    expect((await ledger.claim("a")).kind).toBe("claimed");
  });

  it("an id being handled is in flight for a second claimant; released, it can be claimed again", async () => {
    const { store } = clocked();
    const ledger = new DeliveryLedger(store, { leaseMs: 1_000 });
    const first = await ledger.claim("b");
    expect((await ledger.claim("b")).kind).toBe("in-flight");
    if (first.kind === "claimed") await first.lease.release();
    const again = await ledger.claim("b");
    expect(again.kind).toBe("claimed");
    if (again.kind === "claimed") await again.lease.release();
  });

  it("a claim whose holder died (no renewal) lapses after its lease, and cannot be completed over a new claimant", async () => {
    const { store, advance } = clocked();
    expect(await store.tryClaim("c", "dead", 1_000)).toBe("claimed");
    advance(999);
    expect(await store.tryClaim("c", "other", 1_000)).toBe("in-flight");
    advance(1);
    expect(await store.tryClaim("c", "other", 1_000)).toBe("claimed");
    // The dead holder's late operations change nothing.
    expect(await store.renew("c", "dead", 1_000)).toBe(false);
    await store.release("c", "dead");
    await store.complete("c", "dead", 10_000);
    expect(await store.tryClaim("c", "third", 1_000)).toBe("in-flight");
    await store.release("c", "other");
    expect(await store.tryClaim("c", "third", 1_000)).toBe("claimed");
  });

  it("renewal keeps a live claim past its first lease", async () => {
    const { store, advance } = clocked();
    expect(await store.tryClaim("d", "t", 1_000)).toBe("claimed");
    advance(900);
    expect(await store.renew("d", "t", 1_000)).toBe(true);
    advance(900);
    expect(await store.tryClaim("d", "u", 1_000)).toBe("in-flight");
  });

  it("is bounded in size: the oldest ids go first", async () => {
    const { store } = clocked(3);
    for (const id of ["1", "2", "3", "4"]) {
      await store.tryClaim(id, "t", 60_000);
      await store.complete(id, "t", 60_000);
    }
    expect(store.size).toBe(3);
    expect(await store.tryClaim("1", "t", 60_000)).toBe("claimed");
    expect(await store.tryClaim("4", "t", 60_000)).toBe("handled");
  });

  it("a lease settles once: complete after release does not mark the id handled", async () => {
    const { store } = clocked();
    const ledger = new DeliveryLedger(store);
    const claim = await ledger.claim("e");
    if (claim.kind !== "claimed") throw new Error("expected a claim");
    await claim.lease.release();
    await claim.lease.complete();
    expect((await ledger.claim("e")).kind).toBe("claimed");
  });
});
