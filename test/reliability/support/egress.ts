/**
 * A counting reverse proxy between the app replicas and the sandbox's API: every request the app
 * makes passes here, so the suite measures the app's own API traffic (not the test users') per
 * route, the number the GitHub rate-limit budget is spent on.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Egress {
  /** Base URL to give the app (`http://127.0.0.1:P/api/v3`). */
  apiUrl: string;
  /** Requests per normalized route (`GET /repos/{o}/{r}/pulls/{n}/reviews`). */
  counts(): Record<string, number>;
  total(): number;
  /**
   * Of those, the requests GitHub answered `304 Not Modified` (the app's ETag cache revalidated
   * them): GitHub does not count them against the rate limit.
   */
  notModifiedCounts(): Record<string, number>;
  notModifiedTotal(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Collapses ids, SHAs and names so counts group by endpoint, not by object. */
export function normalizeRoute(method: string, path: string): string {
  const clean = path.split("?")[0] ?? path;
  const parts = clean.split("/").map((segment) => {
    if (/^[0-9a-f]{40}$/.test(segment)) return "{sha}";
    if (/^\d+$/.test(segment)) return "{n}";
    return segment;
  });
  if (parts[1] === "repos" && parts.length > 3) {
    parts[2] = "{o}";
    // The org policy repository stays visible: its reads are not the governed repo's.
    if (parts[3] !== ".github") parts[3] = "{r}";
  }
  return `${method} ${parts.join("/")}`;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

export async function startEgress(sandboxApiUrl: string): Promise<Egress> {
  const target = new URL(sandboxApiUrl);
  const counts = new Map<string, number>();
  const notModified = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const path = req.url ?? "/";
      const key = normalizeRoute(req.method ?? "GET", path.replace(/^\/api\/v3/, ""));
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      // A hung upstream request is abandoned when the app gives up on it (or dies).
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const upstream = await fetch(`${target.origin}${path}`, {
        method: req.method ?? "GET",
        headers,
        ...(body.length > 0 ? { body } : {}),
        signal: abort.signal,
      });
      if (upstream.status === 304) notModified.set(key, (notModified.get(key) ?? 0) + 1);
      const out = Buffer.from(await upstream.arrayBuffer());
      const responseHeaders: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name) && name !== "content-encoding") responseHeaders[name] = value;
      });
      res.writeHead(upstream.status, responseHeaders);
      res.end(out);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/v3`,
    counts: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    notModifiedCounts: () => Object.fromEntries([...notModified].sort(([a], [b]) => a.localeCompare(b))),
    notModifiedTotal: () => [...notModified.values()].reduce((a, b) => a + b, 0),
    reset: () => {
      counts.clear();
      notModified.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
