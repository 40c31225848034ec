/**
 * GitHub's own names for what pullgate calls: concrete requests are matched to an operation
 * (method + path template) of GitHub's published REST description (`@octokit/openapi`,
 * api.github.com, with GHEC as the fallback for operations api.github.com does not have), and the
 * requests the app itself makes (installation token or app JWT, not a test user's token) are
 * recorded at the `fetch` level. See docs/github-api.md.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Operation {
  method: Method;
  /** GitHub's path template, e.g. `/repos/{owner}/{repo}/check-runs/{check_run_id}`. */
  path: string;
  /** Which description holds it: api.github.com, or only GHEC / GHES. */
  source: "api.github.com" | "ghec";
}

interface Matcher extends Operation {
  segments: (string | null)[];
  literals: number;
}

const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const require = createRequire(import.meta.url);

function load(file: string, source: Operation["source"]): Matcher[] {
  const spec = JSON.parse(readFileSync(require.resolve(`@octokit/openapi/generated/${file}`), "utf8")) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const matchers: Matcher[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    const segments = path
      .split("/")
      .slice(1)
      .map((s) => (/^\{[^}]+\}$/.test(s) ? null : s));
    for (const method of METHODS) {
      if (item[method.toLowerCase()] === undefined) continue;
      matchers.push({ method, path, source, segments, literals: segments.filter((s) => s !== null).length });
    }
  }
  return matchers;
}

let cached: Matcher[] | null = null;

/** Every operation of GitHub's description (api.github.com first, then GHEC's extras). */
export function githubOperations(): Operation[] {
  if (cached === null) {
    const dotcom = load("api.github.com.json", "api.github.com");
    const known = new Set(dotcom.map((m) => `${m.method} ${m.path}`));
    cached = [...dotcom, ...load("ghec.json", "ghec").filter((m) => !known.has(`${m.method} ${m.path}`))];
  }
  return cached.map(({ method, path, source }) => ({ method, path, source }));
}

/**
 * The operation a concrete request is, or null when GitHub has none. `pathname` is the API path
 * without the GHES `/api/v3` prefix. Path parameters are one segment (Octokit percent-encodes `/`
 * inside `{ref}`, `{path}`, `{branch}`), so among the templates that fit, the one with the most
 * literal segments wins (`/git/ref/{ref}` over `/git/{x}/{y}`); api.github.com before GHEC.
 */
export function operationOf(method: string, pathname: string): Operation | null {
  githubOperations();
  const parts = pathname.split("/").slice(1);
  let best: Matcher | null = null;
  // A trailing parameter that arrived with raw slashes (`git/ref/heads/approved/x`) ranks below any exact fit.
  let loose: Matcher | null = null;
  for (const m of cached ?? []) {
    if (m.method !== method) continue;
    const fits = (n: number) => m.segments.slice(0, n).every((s, i) => s === null || s === parts[i]);
    if (m.segments.length === parts.length && fits(parts.length)) {
      if (best === null || m.literals > best.literals) best = m;
    } else if (
      m.segments.length < parts.length &&
      m.segments[m.segments.length - 1] === null &&
      fits(m.segments.length - 1)
    ) {
      if (loose === null || m.literals > loose.literals) loose = m;
    }
  }
  const found = best ?? loose;
  return found === null ? null : { method: found.method, path: found.path, source: found.source };
}

export interface AppRequest {
  method: Method;
  /** The API path without `/api/v3`. */
  pathname: string;
  query: URLSearchParams;
  /** "installation": an installation token (`ghs_`); "app": the app's JWT. */
  credential: "installation" | "app";
  /** The JSON body sent, if any. */
  body: unknown;
}

function header(init: RequestInit | undefined, name: string): string | undefined {
  const headers = init?.headers;
  if (headers === undefined) return undefined;
  // Octokit passes a plain object; the other two forms of HeadersInit are handled for completeness.
  const entries: [string, unknown][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Array.isArray(headers)
        ? headers.map((pair): [string, unknown] => [String(pair[0]), pair[1]])
        : Object.entries(headers);
  const value = entries.find(([k]) => k.toLowerCase() === name)?.[1];
  return typeof value === "string" ? value : undefined;
}

/**
 * Records every request made through `globalThis.fetch` to a local sandbox's API (`/api/v3/...` on
 * 127.0.0.1) with the app's credentials. Install it **before** the app's server starts: Octokit's
 * `request.fetch` (src/server.ts) captures the global `fetch` when the server is built. Test users'
 * tokens (`ghp_`) are not recorded.
 */
export function recordAppRequests(prefix = "/api/v3"): { requests: AppRequest[]; stop(): void } {
  const original = globalThis.fetch;
  const requests: AppRequest[] = [];
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const auth = (header(init, "authorization") ?? "").toLowerCase();
    const credential = auth.startsWith("token ghs_")
      ? "installation"
      : auth.startsWith("bearer ")
        ? "app"
        : null;
    if (credential !== null && url.hostname === "127.0.0.1" && url.pathname.startsWith(`${prefix}/`)) {
      let body: unknown = undefined;
      if (typeof init?.body === "string" && init.body.length > 0) {
        try {
          body = JSON.parse(init.body) as unknown;
        } catch {
          body = init.body;
        }
      }
      requests.push({
        method: (init?.method ?? "GET").toUpperCase() as Method,
        pathname: url.pathname.slice(prefix.length) || "/",
        query: url.searchParams,
        credential,
        body,
      });
    }
    return original(input, init);
  };
  globalThis.fetch = recording;
  return {
    requests,
    stop() {
      if (globalThis.fetch === recording) globalThis.fetch = original;
    },
  };
}
