import { invalidRequest } from "./errors.js";
import type { ApiRequest, ApiResponse } from "./request.js";

export interface PageOptions {
  /** GitHub's default page size for the endpoint (30 for most). */
  defaultPerPage?: number;
  /** Items past this many are never listed (pulls/{n}/files: 3000, pulls/{n}/commits: 250). */
  cap?: number;
}

/**
 * Slices `items` by `per_page` (max 100) and `page`, and sets GitHub's `Link` header
 * (rel prev/next/last/first) so Octokit's paginate follows it.
 */
export function paginate<T>(req: ApiRequest, items: T[], options: PageOptions = {}): ApiResponse {
  const perPageRaw = req.query.get("per_page");
  const pageRaw = req.query.get("page");
  let perPage = options.defaultPerPage ?? 30;
  if (perPageRaw !== null) {
    perPage = Number.parseInt(perPageRaw, 10);
    if (!Number.isFinite(perPage) || perPage < 1) perPage = options.defaultPerPage ?? 30;
    perPage = Math.min(perPage, 100);
  }
  let page = 1;
  if (pageRaw !== null) {
    page = Number.parseInt(pageRaw, 10);
    if (!Number.isFinite(page)) throw invalidRequest(`page ${JSON.stringify(pageRaw)} is not a number.`);
    if (page < 1) page = 1;
  }
  const visible = options.cap === undefined ? items : items.slice(0, options.cap);
  const lastPage = Math.max(1, Math.ceil(visible.length / perPage));
  const slice = visible.slice((page - 1) * perPage, page * perPage);
  const link = (p: number): string => {
    const url = new URL(req.url);
    for (const [k, v] of req.query) if (k !== "page") url.searchParams.append(k, v);
    url.searchParams.set("page", String(p));
    return url.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${link(Math.min(page - 1, lastPage))}>; rel="prev"`);
  if (page < lastPage) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${link(1)}>; rel="first"`);
  return { status: 200, body: slice, headers: links.length > 0 ? { link: links.join(", ") } : {} };
}
