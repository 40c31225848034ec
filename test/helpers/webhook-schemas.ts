/**
 * GitHub's published webhook payload schemas (test/fixtures/openapi-webhooks, extracted from
 * @octokit/openapi-webhooks; see the README there), compiled once, for tests that check what the
 * sandbox sends.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "openapi-webhooks");

/** `<event>.<action>` (or `<event>` for action-less events such as push): the fixture's name. */
export function schemaName(hook: { event: string; action: string | null }): string {
  return hook.action === null ? hook.event : `${hook.event}.${hook.action}`;
}

/**
 * The formats GitHub's webhook schemas use (ajv-formats is not a dependency). Checked, not ignored:
 * a sandbox sending `created_at: 1700000000` or a relative URL must fail.
 */
export function addFormats(ajv: Ajv): void {
  const isAbsoluteUrl = (s: string) => URL.canParse(s);
  ajv.addFormat("uri", isAbsoluteUrl);
  // RFC 6570 templates: `{...}` expansions are not URL-valid, so check what is left once they are removed.
  ajv.addFormat("uri-template", (s: string) => isAbsoluteUrl(s.replace(/\{[^{}]*\}/g, "")));
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
}

let cached: Map<string, ValidateFunction> | null = null;

/** Every fixture's validator, by `<event>.<action>`. */
export function webhookSchemas(): Map<string, ValidateFunction> {
  if (cached !== null) return cached;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json")))
    validators.set(
      file.slice(0, -".json".length),
      ajv.compile(JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as object),
    );
  cached = validators;
  return validators;
}

/** ajv's errors as sorted, de-duplicated `path message` lines (stable across runs). */
export function errorsOf(validate: ValidateFunction, payload: unknown): string[] {
  if (validate(payload)) return [];
  const lines = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`.trim());
  return [...new Set(lines)].sort();
}

/**
 * The schema errors of one delivery, or a single "no schema" line when the fixtures have none for
 * its kind (so an unchecked event cannot pass as conforming).
 */
export function webhookErrors(hook: { event: string; action: string | null; payload: unknown }): string[] {
  const name = schemaName(hook);
  const validate = webhookSchemas().get(name);
  if (validate === undefined) return [`no schema for ${name} in test/fixtures/openapi-webhooks`];
  return errorsOf(validate, hook.payload);
}
