/**
 * GitHub's published webhook payload schemas (sandbox/test/fixtures/openapi-webhooks, extracted from
 * @octokit/openapi-webhooks; see the README there), compiled once, for tests that check what the
 * sandbox sends.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures", "openapi-webhooks");

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

let ajv: Ajv | null = null;
const compiled = new Map<string, ValidateFunction>();

/**
 * One fixture's validator, compiled on first use. One at a time on purpose: compiling all of them
 * blocks the event loop for seconds, long enough for a test's keep-alive sockets to the sandbox to
 * be reset mid-flow.
 */
function validatorFor(name: string): ValidateFunction | undefined {
  const known = compiled.get(name);
  if (known !== undefined) return known;
  const file = join(FIXTURES, `${name}.json`);
  if (!existsSync(file)) return undefined;
  if (ajv === null) {
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
  }
  const validate = ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object);
  compiled.set(name, validate);
  return validate;
}

/** Every fixture's validator, by `<event>.<action>` (compiles them all: call it before any sockets open). */
export function webhookSchemas(): Map<string, ValidateFunction> {
  const all = new Map<string, ValidateFunction>();
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json"))) {
    const name = file.slice(0, -".json".length);
    const validate = validatorFor(name);
    if (validate !== undefined) all.set(name, validate);
  }
  return all;
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
  const validate = validatorFor(name);
  if (validate === undefined) return [`no schema for ${name} in sandbox/test/fixtures/openapi-webhooks`];
  return errorsOf(validate, hook.payload);
}
