import { createHash } from "node:crypto";
import type { CachedResponse, HttpCacheStore } from "./store.js";

/** What a response said about the rate limit, for the budget (src/github/budget). */
export type ResponseObserver = (status: number, headers: Headers) => void;

export interface CachingFetchOptions {
  /** Where validated bodies are kept; undefined = no cache (responses are still observed). */
  store?: HttpCacheStore;
  /** Called with every response GitHub sent (200s, 304s, errors). */
  observe?: ResponseObserver;
  /** Counts what the cache did (metrics): "hit" = GitHub answered 304, "miss", "stored". */
  onCache?: (outcome: "hit" | "miss" | "stored") => void;
}

/** Headers that describe one exchange, not the representation: never replayed from the cache. */
const PER_RESPONSE = new Set([
  "date",
  "x-github-request-id",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-used",
  "x-ratelimit-reset",
  "x-ratelimit-resource",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "set-cookie",
]);

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The cache key of a GET: the credential's hash (never the credential itself), the media type and
 * the URL. A key names one token's view of one representation, so one installation's cached body
 * can never answer another installation's request (GitHub varies its responses, and its ETags, on
 * `Authorization` and `Accept`); a request without a credential is not cached at all.
 */
export function cacheKey(authorization: string, accept: string, url: string): string {
  return `${sha256(authorization)}:${sha256(`${accept}\n${url}`)}`;
}

/**
 * A `fetch` for Octokit (its `request.fetch` option) that makes GETs conditional: a 200 that
 * carries an `ETag` or `Last-Modified` is kept; the same GET is then sent with `If-None-Match` /
 * `If-Modified-Since`, and GitHub's `304 Not Modified`, which does not count against the rate
 * limit, is turned back into the kept 200 (with the 304's fresh rate-limit headers). Octokit, its
 * retry and throttling plugins and every caller above see an ordinary 200.
 *
 * Safety: only GET, only with a credential, only status 200 with a validator, keyed per
 * credential; a request that already carries its own conditional headers passes through untouched.
 * The body served is always one GitHub confirmed as current for this credential: the cache saves
 * requests, it never answers on its own (no freshness lifetime).
 */
export function cachingFetch(base: typeof fetch, options: CachingFetchOptions): typeof fetch {
  return async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const authorization = headers.get("authorization");
    const store = options.store;
    const cacheable =
      store !== undefined &&
      method === "GET" &&
      authorization !== null &&
      authorization !== "" &&
      !headers.has("if-none-match") &&
      !headers.has("if-modified-since");
    if (!cacheable) {
      const response = await base(input, init);
      options.observe?.(response.status, response.headers);
      return response;
    }
    const key = cacheKey(authorization, headers.get("accept") ?? "", url);
    const cached = await store.get(key);
    if (cached?.etag !== undefined) headers.set("if-none-match", cached.etag);
    else if (cached?.lastModified !== undefined) headers.set("if-modified-since", cached.lastModified);
    const response = await base(input, { ...init, headers });
    options.observe?.(response.status, response.headers);
    if (response.status === 304 && cached !== undefined) {
      options.onCache?.("hit");
      return withUrl(replay(cached, response), response.url || url);
    }
    options.onCache?.("miss");
    if (response.status !== 200) return response;
    const etag = response.headers.get("etag");
    const lastModified = response.headers.get("last-modified");
    if (etag === null && lastModified === null) return response;
    const bytes = Buffer.from(await response.arrayBuffer());
    const kept: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!PER_RESPONSE.has(name)) kept[name] = value;
    });
    await store.set(key, {
      headers: kept,
      body: bytes.toString("base64"),
      ...(etag !== null ? { etag } : {}),
      ...(lastModified !== null ? { lastModified } : {}),
    });
    options.onCache?.("stored");
    // The body was read (and decoded) here: its transfer headers no longer describe it.
    const passed = new Headers(response.headers);
    passed.delete("content-length");
    passed.delete("content-encoding");
    return withUrl(
      new Response(bytes, { status: 200, statusText: response.statusText, headers: passed }),
      response.url || url,
    );
  };
}

/**
 * A constructed Response has an empty `url`; Octokit reads it (e.g. its pagination and error
 * messages build URLs from it), so the replacement carries the URL of the exchange it stands for.
 */
function withUrl(response: Response, url: string): Response {
  Object.defineProperty(response, "url", { value: url });
  return response;
}

/** The kept 200, with the headers of this exchange (rate limit, request id) from the 304. */
function replay(cached: CachedResponse, notModified: Response): Response {
  const headers = new Headers(cached.headers);
  notModified.headers.forEach((value, name) => {
    if (PER_RESPONSE.has(name) || name === "etag" || name === "last-modified") headers.set(name, value);
  });
  headers.delete("content-length");
  headers.delete("content-encoding");
  headers.set("x-pullgate-cache", "revalidated");
  return new Response(Buffer.from(cached.body, "base64"), { status: 200, statusText: "OK", headers });
}
