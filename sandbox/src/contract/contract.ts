/**
 * The strict sandbox's contract checks (issue 13; sandbox/README.md "Strict mode"): every API
 * request is matched to an operation of GitHub's description, its query and JSON body validated;
 * in tests, every response body and webhook payload too. What fails is answered as GitHub answers
 * (404, 422) where GitHub would refuse, and recorded as a violation either way, so the test that
 * caused it fails (sandbox/src/testing/harness.ts).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { HttpError } from "../http/errors.js";
import { applyDeviations } from "./deviations.js";
import { baseId, type Json } from "./schema.js";
import { loadContractIndex, type ContractIndex, type IndexedOperation } from "./description.js";
import { NON_DOTCOM_ROUTES, ROUTE_ALIASES, SANDBOX_ONLY_ROUTES, normalizeTemplate } from "./sources.js";

export interface ContractViolation {
  kind: "unknown-route" | "not-a-github-operation" | "query" | "request-body" | "response" | "webhook";
  /** The operation (`PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}`), route or webhook concerned. */
  subject: string;
  detail: string[];
}

export interface ContractOptions {
  /** Refuse what GitHub would (unknown operations, invalid bodies and queries). Default true. */
  strict?: boolean;
  /** Also validate response bodies and webhook payloads (tests: compiling validators costs time). */
  validateResponses?: boolean;
  /** Where the one-time notice goes when the descriptions are not installed. */
  log?: (line: string) => void;
  /** The index to use instead of the installed descriptions' (null = as in a production install); tests. */
  index?: ContractIndex | null;
}

export type RouteContract =
  { kind: "operation"; operation: IndexedOperation } | { kind: "sandbox-only" } | { kind: "none" };

/** The formats GitHub's descriptions use; checked, not ignored (a relative URL or a number date fails). */
function addFormats(ajv: Ajv): void {
  const isAbsoluteUrl = (s: string) => URL.canParse(s);
  ajv.addFormat("uri", isAbsoluteUrl);
  // RFC 6570 templates: `{...}` expansions are not URL-valid, so check what is left once removed.
  ajv.addFormat("uri-template", (s: string) => isAbsoluteUrl(s.replace(/\{[^{}]*\}/g, "")));
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat("date", /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat("email", /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  for (const lax of ["double", "binary", "repo.nwo", "uuid", "hostname", "ipv4", "ipv6"])
    ajv.addFormat(lax, true);
}

let notified = false;

export class Contract {
  readonly violations: ContractViolation[] = [];
  /** Strict and with a description: false in a production install (no dev dependencies). */
  readonly strict: boolean;
  readonly validateResponses: boolean;
  private readonly index: ContractIndex | null;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes = new Map<string, RouteContract>();
  private readonly listeners = new Set<(v: ContractViolation) => void>();
  private readonly log: (line: string) => void;

  constructor(options: ContractOptions = {}) {
    const wanted = options.strict ?? true;
    this.log = options.log ?? ((line: string) => console.error(line));
    const needed = wanted || options.validateResponses === true;
    this.index = options.index !== undefined ? options.index : needed ? loadContractIndex() : null;
    if (this.index !== null) applyDeviations(this.index);
    else if (wanted && (!notified || options.log !== undefined)) {
      notified = true;
      this.log(
        "sandbox: GitHub's API descriptions (@octokit/openapi, @octokit/openapi-webhooks) are not installed: running non-strict (requests, responses and webhooks are not checked against GitHub's contract)",
      );
    }
    this.strict = wanted && this.index !== null;
    this.validateResponses = options.validateResponses === true && this.index !== null;
  }

  get versions(): ContractIndex["versions"] | null {
    return this.index?.versions ?? null;
  }

  onViolation(listener: (v: ContractViolation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Returns and forgets the violations recorded so far (tests that provoke one on purpose). */
  take(): ContractViolation[] {
    return this.violations.splice(0, this.violations.length);
  }

  record(v: ContractViolation): void {
    this.violations.push(v);
    // Outside tests (the demo, `pullgate sandbox`) nobody reads the list: say it where it is seen.
    if (!this.validateResponses)
      this.log(`sandbox: GitHub contract violation: ${v.kind} ${v.subject}: ${v.detail.join("; ")}`);
    for (const l of this.listeners) l(v);
  }

  /** What a sandbox route template (`GET /repos/{owner}/{repo}`) is, contract-wise (memoised). */
  route(template: string): RouteContract {
    const known = this.routes.get(template);
    if (known !== undefined) return known;
    let result: RouteContract = { kind: "none" };
    if (SANDBOX_ONLY_ROUTES.has(template)) result = { kind: "sandbox-only" };
    else if (this.index !== null) {
      const target = ROUTE_ALIASES[template] ?? template;
      const [method = "", path = ""] = target.split(" ");
      const operation = this.index.operations[`${method} ${normalizeTemplate(path)}`];
      const dotcomOrListed =
        operation !== undefined &&
        (operation.source === "api.github.com" || NON_DOTCOM_ROUTES[template] === operation.source);
      if (operation !== undefined && dotcomOrListed) result = { kind: "operation", operation };
    }
    this.routes.set(template, result);
    return result;
  }

  /**
   * Two Ajv instances: requests get every error, with the failing value, to word GitHub's 422;
   * responses and webhooks (tests) only need to know what failed first, which compiles to far
   * less code. `inlineRefs: false`: each component compiles once and is shared, instead of being
   * inlined into every schema that reaches it (full-repository is reached hundreds of times).
   */
  private readonly ajvs = new Map<"request" | "response", Ajv>();

  private validator(
    key: string,
    schema: Json,
    purpose: "request" | "response" = "response",
  ): ValidateFunction {
    const cacheKey = `${purpose} ${key}`;
    const known = this.compiled.get(cacheKey);
    if (known !== undefined) return known;
    const index = this.index;
    if (index === null) throw new Error("no contract index");
    let ajv = this.ajvs.get(purpose);
    if (ajv === undefined) {
      const detailed = purpose === "request";
      ajv = new Ajv({
        strict: false,
        allErrors: detailed,
        verbose: detailed,
        inlineRefs: false,
        validateFormats: true,
      });
      addFormats(ajv);
      for (const [source, schemas] of Object.entries(index.components))
        ajv.addSchema({ $id: baseId(source), components: { schemas } } as object);
      this.ajvs.set(purpose, ajv);
    }
    const validate = ajv.compile(schema as object);
    this.compiled.set(cacheKey, validate);
    return validate;
  }

  /**
   * Checks one request against its operation. Returns the 422 GitHub answers for an invalid query
   * or body (null when it passes); unknown query parameters, which GitHub ignores, are recorded
   * without refusing the request.
   */
  checkRequest(
    operation: IndexedOperation,
    query: URLSearchParams,
    body: unknown,
    hasBody: boolean,
  ): HttpError | null {
    const problems: string[] = [];
    let bodyProblem = false;
    const known = new Set(operation.query.map((q) => q.name));
    const unknown = [...new Set(query.keys())].filter((k) => !known.has(k));
    if (unknown.length > 0)
      this.record({
        kind: "query",
        subject: operation.template,
        detail: unknown.map((k) => `unknown query parameter "${k}" (GitHub ignores it)`),
      });
    for (const param of operation.query) {
      const values = query.getAll(param.name);
      if (values.length === 0) {
        if (param.required) problems.push(`"${param.name}" wasn't supplied.`);
        continue;
      }
      const validate = this.validator(`${operation.template} ?${param.name}`, param.schema, "request");
      const value = coerce(values, param.schema);
      if (!validate(value)) problems.push(...messages(validate.errors ?? [], param.name));
    }
    if (operation.body !== null && (hasBody || operation.body.required)) {
      const validate = this.validator(`${operation.template} body`, operation.body.schema, "request");
      if (!validate(hasBody ? body : {})) {
        bodyProblem = true;
        problems.push(...messages(validate.errors ?? [], null));
      }
    }
    if (problems.length === 0) return null;
    const unique = [...new Set(problems)];
    this.record({
      kind: bodyProblem ? "request-body" : "query",
      subject: operation.template,
      detail: unique,
    });
    const simple = JSON.stringify(operation.responses["422"] ?? null).includes("validation-error-simple");
    return new HttpError(422, `Invalid request.\n\n${unique.join("\n")}`, {
      documentationUrl: operation.documentationUrl,
      errors: simple ? unique : unique.map((message) => ({ code: "invalid" as const, message })),
    });
  }

  /**
   * An error body in the shape the operation documents: where its 422 is `validation-error-simple`
   * (reviews, for one), GitHub's `errors` are plain strings ("Can not approve your own pull
   * request"), not objects; handlers throw objects, this turns them into their messages.
   */
  shapeError(
    operation: IndexedOperation,
    status: number,
    body: Record<string, unknown>,
  ): Record<string, unknown> {
    const errors = body.errors;
    if (status !== 422 || !Array.isArray(errors)) return body;
    if (!JSON.stringify(operation.responses["422"] ?? null).includes("validation-error-simple")) return body;
    const strings = errors.map((e: unknown) => {
      if (typeof e === "string") return e;
      const item = e as { message?: unknown; resource?: unknown; field?: unknown; code?: unknown };
      return typeof item.message === "string"
        ? item.message
        : [item.resource, item.field, item.code].filter((x) => typeof x === "string").join(" ");
    });
    return { ...body, errors: strings };
  }

  /** Validates a JSON response body against the operation's schema for its status (tests only). */
  checkResponse(operation: IndexedOperation, status: number, body: unknown): void {
    if (!this.validateResponses) return;
    const key = String(status);
    if (!Object.hasOwn(operation.responses, key)) {
      // GitHub answers 401/403/404/422/5xx on any operation; an undocumented success is the sandbox's invention.
      if (status < 300)
        this.record({
          kind: "response",
          subject: operation.template,
          detail: [`status ${status} is not a documented response`],
        });
      return;
    }
    const schema = operation.responses[key];
    if (schema === null || schema === undefined) {
      // An error status documented without a body still carries GitHub's `{message, documentation_url}`.
      if (body !== undefined && status < 400)
        this.record({
          kind: "response",
          subject: operation.template,
          detail: [`status ${status} has no body on GitHub`],
        });
      return;
    }
    const validate = this.validator(`${operation.template} ${key}`, schema);
    if (!validate(body))
      this.record({
        kind: "response",
        subject: `${operation.template} ${key}`,
        detail: schemaErrors(validate),
      });
  }

  /** Validates a webhook payload against @octokit/openapi-webhooks' schema for its event and action (tests only). */
  checkWebhook(event: string, payload: Record<string, unknown>): void {
    if (!this.validateResponses || this.index === null) return;
    const action = typeof payload.action === "string" ? payload.action : null;
    const name = action === null ? event : `${event}.${action}`;
    const schema = this.index.webhooks[name] ?? (action === null ? undefined : this.index.webhooks[event]);
    if (schema === undefined) {
      this.record({
        kind: "webhook",
        subject: name,
        detail: ["no schema for this event and action in @octokit/openapi-webhooks"],
      });
      return;
    }
    const validate = this.validator(`webhook ${name}`, schema);
    if (!validate(payload)) this.record({ kind: "webhook", subject: name, detail: schemaErrors(validate) });
  }

  /** Validates a body against a webhook schema or an operation response by name (for tests of the checks themselves). */
  webhookSchemaErrors(name: string, payload: unknown): string[] | null {
    const schema = this.index?.webhooks[name];
    if (schema === undefined) return null;
    const validate = this.validator(`webhook ${name}`, schema);
    return validate(payload) ? [] : schemaErrors(validate);
  }
}

/** ajv's errors as sorted, de-duplicated `path message` lines (stable across runs). */
function schemaErrors(validate: ValidateFunction): string[] {
  const lines = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim());
  return [...new Set(lines)].sort();
}

/** A query value as the schema's type reads it (`per_page=100` is the integer 100). */
function coerce(values: string[], schema: Json): unknown {
  const s = schema !== null && typeof schema === "object" && !Array.isArray(schema) ? schema : {};
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("array")) return values.flatMap((v) => v.split(","));
  const value = values[values.length - 1] ?? "";
  if (types.includes("integer") || types.includes("number")) {
    const n = Number(value);
    return value.trim() !== "" && Number.isFinite(n) ? n : value;
  }
  if (types.includes("boolean")) return value === "true" ? true : value === "false" ? false : value;
  return value;
}

/** `/output/summary` → `properties/output/properties/summary`, as GitHub's 422 messages name a field. */
function fieldOf(instancePath: string, param: string | null): string {
  if (param !== null) return `properties/${param}`;
  const parts = instancePath.split("/").filter((p) => p !== "");
  return parts.map((p) => (/^\d+$/.test(p) ? "items" : `properties/${p}`)).join("/");
}

/** Which alternative of a failed anyOf an error belongs to: `anyOf/N`, or the component it was reached through. */
function branchKey(e: ErrorObject, anyOf: ErrorObject): string {
  const rest = e.schemaPath.startsWith(`${anyOf.schemaPath}/`)
    ? e.schemaPath.slice(anyOf.schemaPath.length + 1)
    : "";
  const inline = /^(\d+)(\/|$)/.exec(rest);
  if (inline !== null) return `anyOf/${inline[1]}`;
  return /#\/components\/schemas\/([^/]+)/.exec(e.schemaPath)?.[1] ?? e.schemaPath;
}

/**
 * When an anyOf (the description's oneOf) fails, ajv reports every alternative's errors. Keep the
 * alternative the value was meant as: not one whose single-valued enum (a `type: "merge_queue"`
 * discriminator) it fails, and among the rest the one with the fewest errors.
 */
function closestAlternative(errors: ErrorObject[]): { errors: ErrorObject[]; combinator: boolean } {
  const anyOfs = errors
    .filter((e) => e.keyword === "anyOf")
    .sort((a, b) => a.instancePath.length - b.instancePath.length);
  const outer = anyOfs[0];
  if (outer === undefined) return { errors, combinator: false };
  const within = (e: ErrorObject) =>
    e.instancePath === outer.instancePath || e.instancePath.startsWith(`${outer.instancePath}/`);
  const outside = errors.filter((e) => !within(e));
  const groups = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (!within(e) || e.keyword === "anyOf") continue;
    const key = branchKey(e, outer);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const all = [...groups.values()];
  const singleEnum = (e: ErrorObject) =>
    e.keyword === "enum" && ((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).length === 1;
  const viable = all.filter((g) => !g.some(singleEnum));
  const best = (viable.length > 0 ? viable : all).sort((a, b) => a.length - b.length)[0] ?? [];
  return { errors: [...outside, ...best], combinator: true };
}

/** GitHub's wording of schema failures (the same as the route handlers', http/request.ts). */
function messages(all: ErrorObject[], param: string | null): string[] {
  const { errors, combinator } = closestAlternative(all);
  const out: string[] = combinator ? ['No subschema in "oneOf" matched.'] : [];
  for (const e of errors) {
    const field = fieldOf(e.instancePath, param);
    const where = field === "" ? "the body" : `'${field}'`;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case "required":
        out.push(`"${String(params.missingProperty)}" wasn't supplied.`);
        break;
      case "additionalProperties":
        out.push(`"${String(params.additionalProperty)}" is not a permitted key.`);
        break;
      case "type": {
        const types = String(params.type).split(",");
        out.push(`For ${where}, ${JSON.stringify(valueAt(e))} is not ${types.map(article).join(" or ")}.`);
        break;
      }
      case "enum":
        out.push(
          `For ${where}, ${JSON.stringify(valueAt(e))} is not one of ${(params.allowedValues as unknown[]).map(String).join(", ")}.`,
        );
        break;
      case "maxLength":
        // GitHub's own wording (e.g. a check run's 65,536-character summary).
        out.push(
          `Only ${String(params.limit)} characters are allowed; ${[...String(valueAt(e))].length} were supplied.`,
        );
        break;
      case "anyOf":
      case "if":
        break; // the branches' own errors say what is wrong
      default:
        out.push(`For ${where}, ${JSON.stringify(valueAt(e))} ${e.message ?? "is invalid"}.`);
    }
  }
  return out.length === 0 ? ['No subschema in "oneOf" matched.'] : out;
}

function valueAt(e: ErrorObject): unknown {
  return (e as ErrorObject & { data?: unknown }).data;
}

function article(type: string): string {
  if (type === "null") return "null";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
