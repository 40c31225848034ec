/**
 * HTTP/1.1 over a raw TCP socket, for what fetch cannot do: lie in Content-Length, send a chunked
 * body of any size, keep sending after the server answered, and see when the server closes the
 * connection. The client reads eagerly and ignores write errors after the server closed (the
 * answer it already received is what the tests look at).
 */
import { connect } from "node:net";

export interface RawResponse {
  /** HTTP status of the first response; null when the server closed without answering. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client wrote before it saw the response (or the close). */
  bytesSent: number;
  /** Everything the server sent, raw (to see, e.g., that no "100 Continue" came first). */
  raw: string;
}

export interface RawRequest {
  url: string;
  /** Header lines without the request line; Host is added. */
  headers: Record<string, string>;
  /** The body, written chunk by chunk; `chunked` frames each chunk (and ends with the 0 chunk). */
  chunks: Iterable<Buffer>;
  chunked?: boolean;
  /** Do not write the terminating 0-chunk (a chunked body that never ends). */
  endless?: boolean;
  /** Send the headers, then wait for the server's first bytes before the body ("Expect: 100-continue"). */
  waitBeforeBody?: boolean;
}

function parse(raw: string): Pick<RawResponse, "status" | "headers" | "body"> {
  // Skip interim 1xx responses.
  let rest = raw;
  for (;;) {
    const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n/.exec(rest);
    if (!m) return { status: null, headers: {}, body: "" };
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return { status: null, headers: {}, body: "" };
    const status = Number(m[1]);
    if (status >= 100 && status < 200) {
      rest = rest.slice(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of rest.slice(m[0].length, end).split("\r\n")) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { status, headers, body: rest.slice(end + 4) };
  }
}

/** One request; resolves once the server closed the connection or sent a complete response. */
export function rawRequest(request: RawRequest): Promise<RawResponse> {
  const url = new URL(request.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let raw = "";
    let bytesSent = 0;
    let answered = false;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({ ...parse(raw), bytesSent, raw });
    };
    const complete = () => {
      const r = parse(raw);
      if (r.status === null) return false;
      const length = r.headers["content-length"];
      return length !== undefined && Buffer.byteLength(r.body) >= Number(length);
    };
    let firstBytes: (() => void) | null = null;
    socket.on("data", (d: Buffer) => {
      raw += d.toString("latin1");
      firstBytes?.();
      firstBytes = null;
      if (parse(raw).status !== null) answered = true;
      // A response that closes the connection is read to the close (that is what is under test).
      if (complete() && parse(raw).headers.connection !== "close") done();
    });
    socket.on("error", () => undefined);
    socket.on("close", done);
    socket.on("end", done);
    const head = [
      `POST ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      ...Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`),
      ...(request.chunked ? ["Transfer-Encoding: chunked"] : []),
      "",
      "",
    ].join("\r\n");
    const write = (data: Buffer | string) =>
      new Promise<void>((ok) => {
        if (socket.destroyed || finished) return ok();
        socket.write(data, () => ok());
      });
    void (async () => {
      await write(head);
      if (request.waitBeforeBody) await new Promise<void>((ok) => (firstBytes = ok));
      for (const chunk of request.chunks) {
        if (answered || finished) return;
        await write(
          request.chunked
            ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
            : chunk,
        );
        if (!answered && !finished) bytesSent += chunk.length;
      }
      if (request.chunked && !request.endless && !answered) await write("0\r\n\r\n");
    })();
  });
}

/** `body` cut into chunks of `size` bytes. */
export function* chunksOf(body: Buffer, size = 1 << 20): Generator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}
