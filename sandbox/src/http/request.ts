import type { IncomingHttpHeaders } from "node:http";
import { invalidRequest } from "./errors.js";
import type { Actor } from "../auth/actor.js";

/** What a route handler receives. */
export interface ApiRequest {
  method: string;
  /** The route template, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  route: string;
  params: Record<string, string>;
  /** Absolute URL of the request without its query (for Link headers). */
  url: string;
  query: URLSearchParams;
  body: Body;
  headers: IncomingHttpHeaders;
  /** null = anonymous. */
  actor: Actor | null;
}

/** What a route handler returns; `body: undefined` with 204 sends nothing. */
export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as-is instead of JSON (media types like `application/vnd.github.raw`); set content-type in headers. */
  raw?: Buffer;
}

export const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });
export const created = (body: unknown): ApiResponse => ({ status: 201, body });
export const noContent = (): ApiResponse => ({ status: 204 });

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * A JSON request body with typed accessors. A wrong type is GitHub's 422 "Invalid request"
 * naming the property, never a silent coercion.
 */
export class Body {
  constructor(readonly raw: Record<string, unknown>) {}

  has(name: string): boolean {
    return Object.hasOwn(this.raw, name) && this.raw[name] !== undefined;
  }

  string(name: string): string {
    const value = this.optString(name);
    if (value === undefined) throw invalidRequest(`"${name}" wasn't supplied.`);
    return value;
  }

  optString(name: string): string | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (typeof value !== "string")
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not a string.`);
    return value;
  }

  /** A string or explicit null (GitHub distinguishes "absent" from "set to null" in PATCH bodies). */
  nullableString(name: string): string | null | undefined {
    if (!this.has(name)) return undefined;
    if (this.raw[name] === null) return null;
    return this.optString(name);
  }

  optBool(name: string): boolean | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (typeof value !== "boolean")
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not a boolean.`);
    return value;
  }

  optInt(name: string): number | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (typeof value !== "number" || !Number.isInteger(value))
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not an integer.`);
    return value;
  }

  optStringArray(name: string): string[] | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not an array of strings.`);
    return value as string[];
  }

  optArray(name: string): unknown[] | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (!Array.isArray(value))
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not an array.`);
    return value;
  }

  optObject(name: string): Body | undefined {
    if (!this.has(name) || this.raw[name] === null) return undefined;
    const value = this.raw[name];
    if (typeof value !== "object" || Array.isArray(value) || value === null)
      throw invalidRequest(`For 'properties/${name}', ${describe(value)} is not an object.`);
    return new Body(value as Record<string, unknown>);
  }

  /** A property that must be an object or null (GitHub's protection PUT requires these keys). */
  requiredNullableObject(name: string): Body | null {
    if (!Object.hasOwn(this.raw, name)) throw invalidRequest(`"${name}" wasn't supplied.`);
    return this.optObject(name) ?? null;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optString(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value))
      throw invalidRequest(
        `For 'properties/${name}', ${describe(value)} is not one of ${allowed.join(", ")}.`,
      );
    return value as T;
  }
}
