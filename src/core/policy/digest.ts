import { createHash } from "node:crypto";
import type { Policy } from "./types.js";

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, like JSON.stringify of a sorted
 * Object.keys), no whitespace, arrays in order. Two policies that mean the same (whatever the
 * YAML's key order, quoting or comments) serialize identically.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`canonicalJson: cannot serialize ${typeof value}`);
    return json;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}

/** "sha256:<hex>" of the effective policy's canonical JSON (the record's Pullgate-Policy-Digest). */
export function policyDigest(policy: Policy): string {
  return `sha256:${createHash("sha256").update(canonicalJson(policy), "utf8").digest("hex")}`;
}
