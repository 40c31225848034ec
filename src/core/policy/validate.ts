import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import { policySchema } from "./schema.js";
import type { PolicyError } from "./types.js";
import { joinPointer, type PositionMap } from "./yaml-positions.js";

/**
 * JSON Schema validation of a loaded policy document, with every ajv error turned into a
 * message a person can act on ("unknown key `reveiws`; allowed: ...", "must be an integer, got
 * string \"two\"") and placed at the key or value it is about.
 */

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (compiled === null) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    // An annotation for editors (yaml-language-server) and for our messages; it validates nothing.
    ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
    compiled = ajv.compile(policySchema as unknown as AnySchema);
  }
  return compiled;
}

export function validatePolicyDocument(value: unknown, file: string, positions: PositionMap): PolicyError[] {
  const validate = validator();
  if (validate(value)) return [];
  const errors: PolicyError[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const rendered = renderError(error, positions);
    const key = `${rendered.line}:${rendered.column}:${rendered.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push({ file, ...rendered });
  }
  return sortErrors(errors);
}

export function sortErrors(errors: PolicyError[]): PolicyError[] {
  return [...errors].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/** "/branches/0/reviews" -> "branches[0].reviews" (how people name a place in YAML). */
export function describePointer(pointer: string): string {
  if (pointer === "") return "the policy";
  let out = "";
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(token) ? `[${token}]` : out === "" ? token : `.${token}`;
  }
  return out;
}

function describeValue(data: unknown): string {
  if (data === null || data === undefined) return "nothing (null)";
  if (Array.isArray(data)) return "a list";
  if (typeof data === "object") return "a mapping";
  if (typeof data === "string")
    return `string ${JSON.stringify(data.length > 60 ? data.slice(0, 57) + "..." : data)}`;
  if (typeof data === "number") return `number ${data}`;
  if (typeof data === "boolean") return `boolean ${data}`;
  return typeof data;
}

const TYPE_NAMES: Record<string, string> = {
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  string: "a string",
  null: "null",
};

function typeName(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(" or ");
}

function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? Infinity;
}

interface Rendered {
  line: number;
  column: number;
  message: string;
}

function renderError(error: ErrorObject, positions: PositionMap): Rendered {
  const where = describePointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parentSchema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const at = (pointer: string, key = false) => (key ? positions.keyAt(pointer) : positions.valueAt(pointer));
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parentSchema.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closest(key, allowed);
      const hint = suggestion !== null ? ` (did you mean \`${suggestion}\`?)` : "";
      const place = error.instancePath === "" ? "" : ` in ${where}`;
      return {
        ...at(joinPointer(error.instancePath, key), true),
        message: `unknown key \`${key}\`${place}${hint}; allowed: ${allowed.join(", ")}`,
      };
    }
    case "required":
      return {
        ...at(error.instancePath),
        message: `${where}: missing required key \`${String(params.missingProperty)}\``,
      };
    case "type":
      return {
        // An empty value ("reviews:" and nothing) has no text of its own: point at its key.
        ...at(error.instancePath, error.data === null),
        message: `${where}: must be ${typeName(params.type)}, got ${describeValue(error.data)}`,
      };
    case "enum":
      return {
        ...at(error.instancePath),
        message: `${where}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(error.data)}`,
      };
    case "const":
      return {
        ...at(error.instancePath),
        message: `${where}: must be ${JSON.stringify(params.allowedValue)}, got ${describeValue(error.data)}`,
      };
    case "pattern": {
      const explained =
        typeof parentSchema.patternErrorMessage === "string"
          ? parentSchema.patternErrorMessage
          : `must match ${String(params.pattern)}`;
      return {
        ...at(error.instancePath),
        message: `${where}: ${explained}, got ${describeValue(error.data)}`,
      };
    }
    case "minimum":
    case "maximum":
      return {
        ...at(error.instancePath),
        message: `${where}: must be ${error.keyword === "minimum" ? "at least" : "at most"} ${String(params.limit)}, got ${describeValue(error.data)}`,
      };
    case "minItems":
      return {
        ...at(error.instancePath),
        message: `${where}: must list at least ${String(params.limit)} item${params.limit === 1 ? "" : "s"}`,
      };
    case "minLength":
      return { ...at(error.instancePath), message: `${where}: must not be empty` };
    case "maxLength":
      return {
        ...at(error.instancePath),
        message: `${where}: must be at most ${String(params.limit)} characters long`,
      };
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      return {
        ...at(joinPointer(error.instancePath, later)),
        message: `${where}: item ${later} repeats item ${earlier}; list each value once`,
      };
    }
    default:
      return { ...at(error.instancePath), message: `${where}: ${error.message ?? "is invalid"}` };
  }
}
