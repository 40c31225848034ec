import type { IncomingMessage } from "node:http";

/**
 * The largest webhook body pullgate reads. GitHub documents "Payloads are capped at 25 MB" and
 * does not deliver a larger one; 25 MiB is the larger reading of "MB", so no body GitHub would
 * deliver is refused, and anything past it cannot be a genuine delivery (docs/threat-model.md,
 * "The webhook endpoint").
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 25 * 1024 * 1024;

export type BodyRead =
  | { ok: true; body: Buffer }
  /** `declared`: Content-Length over the limit (nothing read); `streamed`: the body grew past it. */
  | { ok: false; reason: "declared" | "streamed"; bytesRead: number }
  /** The client went away (or the socket failed) before the body ended. */
  | { ok: false; reason: "aborted"; bytesRead: number };

/**
 * The declared length, when it is over `limit`. Node's HTTP parser has already refused malformed,
 * negative, duplicated-and-different or chunked-plus-length framings (400), so a header that
 * reaches us is one non-negative integer or absent.
 */
export function declaredOverLimit(req: IncomingMessage, limit: number): boolean {
  const header = req.headers["content-length"];
  if (header === undefined) return false;
  const length = Number(header);
  // Not a number we can trust: treat as over, the caller refuses without reading.
  if (!Number.isSafeInteger(length) || length < 0) return true;
  return length > limit;
}

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before a byte is read; a chunked (or under-declared) body is refused the moment it
 * passes the limit: the chunks read so far are dropped and the rest is not buffered (the stream
 * keeps flowing into nothing until the caller answers and closes the connection). Never rejects.
 */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<BodyRead> {
  if (declaredOverLimit(req, limit)) return Promise.resolve({ ok: false, reason: "declared", bytesRead: 0 });
  return new Promise<BodyRead>((resolve) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyRead) => {
      if (done) return;
      done = true;
      chunks = [];
      resolve(result);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return; // past the limit: discard, never keep
      size += chunk.length;
      if (size > limit) {
        finish({ ok: false, reason: "streamed", bytesRead: size });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      const body = Buffer.concat(chunks, size);
      done = true;
      resolve({ ok: true, body });
    });
    req.on("aborted", () => finish({ ok: false, reason: "aborted", bytesRead: size }));
    req.on("error", () => finish({ ok: false, reason: "aborted", bytesRead: size }));
    req.on("close", () => finish({ ok: false, reason: "aborted", bytesRead: size }));
  });
}
