/**
 * GitHub's OpenAPI schemas turned into what Ajv (draft-07) checks, read the way GitHub's own REST
 * docs read them (docs/threat-model.md: the sandbox must not agree with the app on a shape GitHub
 * would refuse):
 * - `nullable: true` (OpenAPI 3.0) = the type or null;
 * - `oneOf` = "one of these shapes", i.e. anyOf: GitHub's alternatives overlap (two object shapes
 *   without `additionalProperties: false` both match one value), so a strict oneOf would refuse
 *   bodies GitHub accepts;
 * - annotations (description, examples, ...) and vendor keys are dropped: they are most of the size
 *   and Ajv does not check them.
 * `$ref`s to `#/components/schemas/NAME` become `<base>#/components/schemas/NAME`, where `<base>` is
 * the `$id` under which that description's components are registered with Ajv.
 */

const DROP = new Set([
  "description",
  "example",
  "examples",
  "externalDocs",
  "title",
  "deprecated",
  "readOnly",
  "writeOnly",
  "xml",
  "discriminator",
  "default",
  "$comment",
  "summary",
]);

/** Keywords whose value is a map of names to schemas (the names are data, never keywords). */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"]);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const COMPONENT_REF = "#/components/schemas/";

/** The `$id` prefix of one description's components (never fetched: Ajv resolves it locally). */
export function baseId(source: string): string {
  return `https://pullgate.invalid/openapi/${source}.json`;
}

/** Converts one schema; `refs` collects the component names it references (for reachability). */
export function convertSchema(node: Json, source: string, refs: Set<string>): Json {
  if (Array.isArray(node)) return node.map((n) => convertSchema(n, source, refs));
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROP.has(key) || key.startsWith("x-")) continue;
    if (key === "$ref" && typeof value === "string") {
      if (!value.startsWith(COMPONENT_REF)) throw new Error(`unexpected $ref ${value}`);
      refs.add(value.slice(COMPONENT_REF.length));
      out.$ref = `${baseId(source)}${value}`;
      continue;
    }
    if (SCHEMA_MAPS.has(key) && value !== null && typeof value === "object" && !Array.isArray(value)) {
      const map: JsonObject = {};
      for (const [name, sub] of Object.entries(value)) map[name] = convertSchema(sub, source, refs);
      out[key] = map;
      continue;
    }
    out[key === "oneOf" ? "anyOf" : key] = convertSchema(value, source, refs);
  }
  if (out.nullable === true) {
    delete out.nullable;
    return nullable(out);
  }
  delete out.nullable;
  return out;
}

function nullable(schema: JsonObject): Json {
  const type = schema.type;
  if (typeof type === "string" && schema.$ref === undefined) {
    const copy: JsonObject = { ...schema, type: [type, "null"] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) copy.enum = [...schema.enum, null];
    return copy;
  }
  // allOf / anyOf / $ref without a type of its own: null or the schema.
  return { anyOf: [{ type: "null" }, schema] };
}
