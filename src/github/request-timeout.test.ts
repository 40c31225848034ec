import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchWithDeadline } from "./request-timeout.js";

describe("fetchWithDeadline", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // /hang never answers; anything else answers at once.
    server = createServer((req, res) => {
      if (req.url === "/hang") return;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("a request that never answers fails at its deadline", async () => {
    await expect(fetchWithDeadline(100)(`${base}/hang`)).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("an answer within the deadline is returned as is", async () => {
    const res = await fetchWithDeadline(5_000)(`${base}/fine`);
    expect(await res.text()).toBe("ok");
  });

  it("each call gets its own deadline (a retry is not born expired)", async () => {
    const timed = fetchWithDeadline(100);
    await expect(timed(`${base}/hang`)).rejects.toMatchObject({ name: "TimeoutError" });
    expect((await timed(`${base}/again`)).status).toBe(200);
  });

  it("the caller's own signal still aborts earlier", async () => {
    const caller = new AbortController();
    const pending = fetchWithDeadline(10_000)(`${base}/hang`, { signal: caller.signal });
    caller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });
});
