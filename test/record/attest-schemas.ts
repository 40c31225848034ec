/**
 * The in-toto Statement v1 and SLSA VSA v1 JSON schemas under fixtures/attest (written from the
 * published spec texts; their $comment names the source), compiled once with ajv.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";

const FIXTURES = join(import.meta.dirname, "fixtures", "attest");

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  // The two formats the schemas use, kept strict: absolute URIs with a scheme, RFC 3339 UTC times.
  ajv.addFormat("uri", /^[a-z][a-z0-9+.-]*:[^\s]+$/i);
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/);
  for (const file of ["in-toto-statement-v1.schema.json", "slsa-verification-summary-v1.schema.json"]) {
    const schema = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as { $id: string };
    ajv.addSchema(schema, schema.$id.replace(/^.*\//, ""));
  }
  const statement = ajv.getSchema("in-toto-statement-v1.json");
  const vsa = ajv.getSchema("slsa-verification-summary-v1.json");
  if (statement === undefined || vsa === undefined) throw new Error("schemas did not load");
  return (value: unknown): string[] => {
    const errors: string[] = [];
    for (const validate of [statement, vsa]) {
      if (!validate(value))
        errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
    }
    return errors;
  };
}

/** Every schema error of `value` as an in-toto Statement with a VSA predicate; [] when it is valid. */
export const statementSchemaErrors = validator();
