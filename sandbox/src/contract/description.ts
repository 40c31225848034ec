/**
 * GitHub's published contract as a compact index: the operations (method, templated path, query
 * parameters, request body and response schemas per status) of @octokit/openapi's api.github.com
 * description, the GHES/GHEC-only operations the sandbox serves (sources.ts), and the webhook payload
 * schemas of @octokit/openapi-webhooks, with only the components they reach.
 *
 * The packages are dev dependencies: in a production install they are absent and `loadContractIndex`
 * answers null (the sandbox then runs non-strict and says so). Parsing the descriptions takes about
 * a second and the dereferenced ones are tens of MB, while every vitest file is its own process, so
 * the index is built once and cached on disk, keyed by both package versions and FORMAT.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMPONENT_REF, baseId, convertSchema, type Json, type JsonObject } from "./schema.js";
import { EXTRA_SOURCES, NON_DOTCOM_ROUTES, normalizeTemplate } from "./sources.js";

/** Bump when the index layout or the schema conversion changes (invalidates the disk cache). */
const FORMAT = 5;

export const DOTCOM = "api.github.com";
export const WEBHOOKS = "webhooks";

export interface QueryParameter {
  name: string;
  required: boolean;
  schema: Json;
}

export interface IndexedOperation {
  /** `GET /repos/{owner}/{repo}` as the description spells it. */
  template: string;
  operationId: string;
  /** The description it comes from: api.github.com, ghes-3.19 or ghec. */
  source: string;
  documentationUrl: string;
  query: QueryParameter[];
  /** The JSON request body's schema, or null when the operation takes none. */
  body: { required: boolean; schema: Json } | null;
  /** Status → JSON body schema (null: the status has no JSON body, e.g. 204 or 304). */
  responses: Record<string, Json>;
}

export interface ContractIndex {
  format: number;
  versions: { openapi: string; webhooks: string };
  /** By `METHOD normalized-template` (normalizeTemplate). */
  operations: Record<string, IndexedOperation>;
  /** Components reached, per source (`webhooks` for the payload schemas). */
  components: Record<string, Record<string, Json>>;
  /** `event` or `event.action` (GitHub's spelling: `pull_request.opened`) → payload schema. */
  webhooks: Record<string, Json>;
}

const METHODS = ["get", "put", "post", "patch", "delete", "head"];

interface Packages {
  openapiDir: string;
  openapiVersion: string;
  webhooksDir: string;
  webhooksVersion: string;
}

function findPackages(): Packages | null {
  const require = createRequire(import.meta.url);
  try {
    const openapiDir = dirname(require.resolve("@octokit/openapi/package.json"));
    const webhooksDir = dirname(require.resolve("@octokit/openapi-webhooks/package.json"));
    const version = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    return {
      openapiDir,
      openapiVersion: version(openapiDir),
      webhooksDir,
      webhooksVersion: version(webhooksDir),
    };
  } catch {
    return null;
  }
}

type Spec = JsonObject & {
  paths?: Record<string, Record<string, JsonObject>>;
  webhooks?: Record<string, Record<string, JsonObject>>;
  components: {
    schemas: Record<string, Json>;
    parameters?: Record<string, JsonObject>;
    responses?: Record<string, JsonObject>;
  };
};

function readSpec(path: string): Spec {
  return JSON.parse(readFileSync(path, "utf8")) as Spec;
}

/** Resolves a `#/components/{parameters,responses}/x` reference (one level: they hold schemas, not refs to refs). */
function deref(spec: Spec, node: JsonObject): JsonObject {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const m = /^#\/components\/(parameters|responses)\/(.+)$/.exec(ref);
  const target = m === null ? undefined : spec.components[m[1] as "parameters" | "responses"]?.[m[2] ?? ""];
  if (target === undefined) throw new Error(`unresolvable ${ref}`);
  return target;
}

function jsonSchemaOf(content: Json | undefined): Json | undefined {
  if (content === null || typeof content !== "object" || Array.isArray(content)) return undefined;
  const media = content["application/json"] ?? content["application/scim+json"];
  if (media === undefined || media === null || typeof media !== "object" || Array.isArray(media))
    return undefined;
  return media.schema;
}

function indexOperation(
  spec: Spec,
  source: string,
  method: string,
  path: string,
  op: JsonObject,
  refs: Set<string>,
): IndexedOperation {
  const params = [
    ...((spec.paths?.[path]?.parameters as unknown as JsonObject[] | undefined) ?? []),
    ...((op.parameters as JsonObject[] | undefined) ?? []),
  ].map((p) => deref(spec, p));
  const query: QueryParameter[] = params
    .filter((p) => p.in === "query")
    .map((p) => ({
      name: String(p.name),
      required: p.required === true,
      schema: convertSchema(p.schema ?? {}, source, refs),
    }));
  let body: IndexedOperation["body"] = null;
  const requestBody = op.requestBody as JsonObject | undefined;
  if (requestBody !== undefined) {
    const schema = jsonSchemaOf(requestBody.content);
    if (schema !== undefined)
      body = { required: requestBody.required === true, schema: convertSchema(schema, source, refs) };
  }
  const responses: Record<string, Json> = {};
  for (const [status, raw] of Object.entries(
    (op.responses as Record<string, JsonObject> | undefined) ?? {},
  )) {
    const schema = jsonSchemaOf(deref(spec, raw).content);
    responses[status] = schema === undefined ? null : convertSchema(schema, source, refs);
  }
  const docs = (op.externalDocs as JsonObject | undefined)?.url;
  return {
    template: `${method.toUpperCase()} ${path}`,
    operationId: String(op.operationId),
    source,
    documentationUrl: typeof docs === "string" ? docs : "https://docs.github.com/rest",
    query,
    body,
    responses,
  };
}

/** The components `roots` reach, converted, transitively. */
function reachable(spec: Spec, source: string, roots: Set<string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() ?? "";
    if (Object.hasOwn(out, name)) continue;
    const raw = spec.components.schemas[name];
    if (raw === undefined) throw new Error(`dangling ${COMPONENT_REF}${name} in ${source}`);
    const refs = new Set<string>();
    out[name] = convertSchema(raw, source, refs);
    for (const r of refs) if (!Object.hasOwn(out, r)) queue.push(r);
  }
  return out;
}

function buildIndex(pkgs: Packages): ContractIndex {
  const operations: Record<string, IndexedOperation> = {};
  const components: Record<string, Record<string, Json>> = {};
  const add = (source: string, wanted: (key: string) => boolean) => {
    const spec = readSpec(join(pkgs.openapiDir, "generated", `${source}.json`));
    const refs = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths ?? {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (op === undefined) continue;
        const key = `${method.toUpperCase()} ${normalizeTemplate(path)}`;
        if (!wanted(key) || Object.hasOwn(operations, key)) continue;
        operations[key] = indexOperation(spec, source, method, path, op, refs);
      }
    }
    components[source] = reachable(spec, source, refs);
  };
  add(DOTCOM, () => true);
  for (const source of EXTRA_SOURCES) {
    const keys = new Set(
      Object.entries(NON_DOTCOM_ROUTES)
        .filter(([, s]) => s === source)
        .map(([route]) => {
          const [method = "", path = ""] = route.split(" ");
          return `${method} ${normalizeTemplate(path)}`;
        }),
    );
    if (keys.size > 0) add(source, (key) => keys.has(key));
  }
  const hooks = readSpec(join(pkgs.webhooksDir, "generated", `${DOTCOM}.json`));
  const hookRefs = new Set<string>();
  const webhooks: Record<string, Json> = {};
  for (const item of Object.values(hooks.webhooks ?? {})) {
    const post = item.post;
    if (post === undefined) continue;
    // The payload's own `action` enum names the action; the event is the operationId's prefix
    // (`pull-request/opened`) spelled as the X-GitHub-Event header spells it.
    const schema = jsonSchemaOf((post.requestBody as JsonObject | undefined)?.content);
    if (schema === undefined) continue;
    const [eventPart = "", action] = String(post.operationId).split("/");
    const event = eventPart.replace(/-/g, "_");
    const name = action === undefined ? event : `${event}.${action.replace(/-/g, "_")}`;
    webhooks[name] = convertSchema(schema, WEBHOOKS, hookRefs);
  }
  components[WEBHOOKS] = reachable(hooks, WEBHOOKS, hookRefs);
  hoistShared(webhooks, components[WEBHOOKS]);
  return {
    format: FORMAT,
    versions: { openapi: pkgs.openapiVersion, webhooks: pkgs.webhooksVersion },
    operations,
    components,
    webhooks,
  };
}

/** Keywords whose value is one schema, or (arrays) a list of schemas. */
const SUBSCHEMA = new Set([
  "items",
  "additionalProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "anyOf",
  "allOf",
  "oneOf",
]);
const SUBSCHEMA_MAPS = new Set(["properties", "patternProperties"]);
/** Inline subschemas at least this long (JSON) are shared; smaller ones are cheaper inlined. */
const HOIST_MIN = 1500;

/**
 * The webhook schemas repeat large inline objects (the pull request, its repositories, users) in
 * every action's schema. Each distinct one becomes a shared component (`shared-<hash>`), so Ajv compiles
 * it once per process instead of once per event and action (seconds per test file otherwise).
 */
function hoistShared(schemas: Record<string, Json>, components: Record<string, Json>): void {
  const visit = (node: Json): Json => {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (SUBSCHEMA_MAPS.has(key) && value !== null && typeof value === "object" && !Array.isArray(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, visit(sub)]));
      } else if (SUBSCHEMA.has(key)) {
        out[key] = Array.isArray(value) ? value.map(visit) : visit(value);
      } else out[key] = value;
    }
    const text = JSON.stringify(out);
    if (text.length < HOIST_MIN) return out;
    const name = `shared-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    components[name] = out;
    return { $ref: `${baseId(WEBHOOKS)}#/components/schemas/${name}` };
  };
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = visit(schema);
  for (const [name, schema] of Object.entries(components))
    if (!name.startsWith("shared-")) components[name] = visit(schema);
}

function cacheKey(pkgs: Packages): string {
  const extras = createHash("sha256").update(JSON.stringify(NON_DOTCOM_ROUTES)).digest("hex").slice(0, 12);
  return `contract-v${FORMAT}-openapi-${pkgs.openapiVersion}-webhooks-${pkgs.webhooksVersion}-${extras}.json`;
}

/** node_modules/.cache/pullgate (the usual place for tool caches), else the OS temp dir. */
function cacheDirs(pkgs: Packages): string[] {
  return [join(pkgs.openapiDir, "..", "..", ".cache", "pullgate"), join(tmpdir(), "pullgate-cache")];
}

let memo: ContractIndex | null | undefined;

/**
 * The index, from the disk cache or built (and cached) now; null when the descriptions are not
 * installed. Concurrent processes may build it at once: each writes a temp file and renames it.
 */
export function loadContractIndex(): ContractIndex | null {
  if (memo !== undefined) return memo;
  const pkgs = findPackages();
  if (pkgs === null) return (memo = null);
  const name = cacheKey(pkgs);
  for (const dir of cacheDirs(pkgs)) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    try {
      const cached = JSON.parse(readFileSync(file, "utf8")) as ContractIndex;
      if (cached.format === FORMAT) return (memo = cached);
    } catch {
      // A torn or foreign file: rebuild.
    }
  }
  const index = buildIndex(pkgs);
  const text = JSON.stringify(index);
  for (const dir of cacheDirs(pkgs)) {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `${name}.${process.pid}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, name));
      break;
    } catch {
      // Not writable: try the next place; without any, every process builds its own.
    }
  }
  return (memo = index);
}
