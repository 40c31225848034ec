/**
 * The in-process sweep lease: what keeps two sweeps of one replica from overlapping, with the
 * claim semantics of the Redis store the replicas share (the delivery ledger's tryClaim/release).
 */
import { describe, expect, it } from "vitest";
import { memoryLease } from "./loop.js";

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("memoryLease: one holder at a time", () => {
  it("a second claim while the lease is held is in-flight, whoever asks", async () => {
    const c = clock();
    const lease = memoryLease(c.now);
    expect(await lease.tryClaim("sweep", "a", 60_000)).toBe("claimed");
    expect(await lease.tryClaim("sweep", "b", 60_000)).toBe("in-flight");
    // The holder's own token does not claim it twice either: a sweep is never re-entered.
    expect(await lease.tryClaim("sweep", "a", 60_000)).toBe("in-flight");
  });

  it("leases of different names are independent", async () => {
    const lease = memoryLease(clock().now);
    expect(await lease.tryClaim("sweep", "a", 60_000)).toBe("claimed");
    expect(await lease.tryClaim("other", "b", 60_000)).toBe("claimed");
  });

  it("only the holder's token releases it", async () => {
    const lease = memoryLease(clock().now);
    await lease.tryClaim("sweep", "a", 60_000);
    await lease.release("sweep", "b");
    expect(await lease.tryClaim("sweep", "b", 60_000)).toBe("in-flight");
    await lease.release("sweep", "a");
    expect(await lease.tryClaim("sweep", "b", 60_000)).toBe("claimed");
  });

  it("an expired lease can be claimed again (a sweep that never released it), and is never 'handled'", async () => {
    const c = clock();
    const lease = memoryLease(c.now);
    await lease.tryClaim("sweep", "a", 1_000);
    c.advance(999);
    expect(await lease.tryClaim("sweep", "b", 1_000)).toBe("in-flight");
    c.advance(1);
    expect(await lease.tryClaim("sweep", "b", 1_000)).toBe("claimed");
  });

  it("a late release by the expired holder does not free the new holder's lease", async () => {
    const c = clock();
    const lease = memoryLease(c.now);
    await lease.tryClaim("sweep", "a", 1_000);
    c.advance(1_000);
    await lease.tryClaim("sweep", "b", 1_000);
    await lease.release("sweep", "a");
    expect(await lease.tryClaim("sweep", "c", 1_000)).toBe("in-flight");
  });

  it("only the live holder renews: a renewal keeps others out past the first expiry", async () => {
    const c = clock();
    const lease = memoryLease(c.now);
    await lease.tryClaim("sweep", "a", 1_000);
    c.advance(900);
    expect(await lease.renew?.("sweep", "b", 1_000)).toBe(false);
    expect(await lease.renew?.("sweep", "a", 1_000)).toBe(true);
    c.advance(900);
    expect(await lease.tryClaim("sweep", "b", 1_000)).toBe("in-flight");
    // Once expired it is not the holder's any more: no renewal brings it back.
    c.advance(100);
    expect(await lease.renew?.("sweep", "a", 1_000)).toBe(false);
    expect(await lease.tryClaim("sweep", "b", 1_000)).toBe("claimed");
  });

  it("close drops every lease", async () => {
    const lease = memoryLease(clock().now);
    await lease.tryClaim("sweep", "a", 60_000);
    await lease.close();
    expect(await lease.tryClaim("sweep", "b", 60_000)).toBe("claimed");
  });
});
