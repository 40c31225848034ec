import type { ApiRequest, ApiResponse } from "./request.js";

export type Handler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

interface Segment {
  literal?: string;
  param?: string;
  /** Matches one or more segments (refs, paths and branch names contain slashes). */
  greedy?: boolean;
}

interface Route {
  method: string;
  /** The key requests are counted under: GitHub's template, e.g. `GET /repos/{owner}/{repo}`. */
  template: string;
  segments: Segment[];
  handler: Handler;
}

export interface RouteMatch {
  template: string;
  params: Record<string, string>;
  handler: Handler;
}

function parseTemplate(path: string): Segment[] {
  return path
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      const m = /^\{([a-z_]+)(\+)?\}$/.exec(s);
      if (m === null) return { literal: s };
      return { param: m[1], greedy: m[2] === "+" };
    });
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchSegments(
  segments: Segment[],
  parts: string[],
  si: number,
  pi: number,
  params: Record<string, string>,
): boolean {
  if (si === segments.length) return pi === parts.length;
  const seg = segments[si];
  if (seg === undefined || pi >= parts.length) return false;
  if (seg.literal !== undefined) {
    return parts[pi] === seg.literal && matchSegments(segments, parts, si + 1, pi + 1, params);
  }
  const name = seg.param ?? "";
  if (!seg.greedy) {
    const value = decode(parts[pi] ?? "");
    if (value === undefined || value === "") return false;
    params[name] = value;
    return matchSegments(segments, parts, si + 1, pi + 1, params);
  }
  // Greedy: try the longest run first so `git/ref/heads/a/b` binds ref = heads/a/b.
  for (let end = parts.length; end > pi; end--) {
    const values = parts.slice(pi, end).map(decode);
    if (values.some((v) => v === undefined || v === "")) continue;
    params[name] = values.join("/");
    if (matchSegments(segments, parts, si + 1, end, params)) return true;
  }
  delete params[name];
  return false;
}

/** A method + path-template router; the first registered match wins. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const template = `${method} ${path.replace(/\+\}/g, "}")}`;
    this.routes.push({ method, template, segments: parseTemplate(path), handler });
    return this;
  }

  /** `405`-worthy: the path exists under another method. */
  pathExists(path: string): boolean {
    const parts = path.split("/").filter((s) => s !== "");
    return this.routes.some((r) => matchSegments(r.segments, parts, 0, 0, {}));
  }

  match(method: string, path: string): RouteMatch | undefined {
    const parts = path.split("/").filter((s) => s !== "");
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      if (matchSegments(route.segments, parts, 0, 0, params)) {
        return { template: route.template, params, handler: route.handler };
      }
    }
    return undefined;
  }

  templates(): string[] {
    return this.routes.map((r) => r.template);
  }
}
