import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { mergePolicies } from "./merge.js";
import { parsePolicy } from "./parse.js";
import { policySchema } from "./schema.js";

const policiesDir = fileURLToPath(new URL("../../../policies/", import.meta.url));
const schemaFile = join(policiesDir, "pullgate.schema.json");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe("policies/", () => {
  it("ships the schema generated from src/core/policy/schema.ts (UPDATE_SCHEMA=1 rewrites it)", () => {
    const generated = JSON.stringify(policySchema, null, 2) + "\n";
    if (process.env.UPDATE_SCHEMA === "1") writeFileSync(schemaFile, generated);
    expect(readFileSync(schemaFile, "utf8")).toBe(generated);
  });

  it("ships a schema that a stock ajv accepts as draft-07 (editors use it without our code)", () => {
    const ajv = new Ajv({ strict: false, allowUnionTypes: true });
    const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as object;
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it("has a description on every property of the schema", () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== "object") return;
      const record = node as Record<string, unknown>;
      const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
      if (properties !== undefined) {
        for (const [key, value] of Object.entries(properties)) {
          if (typeof value.description !== "string" || value.description.length < 10)
            missing.push(`${path}.${key}`);
          walk(value, `${path}.${key}`);
        }
        expect(record.additionalProperties, `${path} is closed`).toBe(false);
      }
      if (record.items !== undefined) walk(record.items, `${path}[]`);
    };
    walk(policySchema, "$");
    expect(missing).toEqual([]);
  });

  const files = yamlFiles(policiesDir);

  it("contains the default policy and the three examples", () => {
    const names = files.map((f) => f.slice(policiesDir.length)).sort();
    expect(names).toEqual([
      "default.yml",
      "examples/monorepo.yml",
      "examples/org-wide.yml",
      "examples/single-repo.yml",
    ]);
  });

  it.each(files)("%s lints with zero errors", (file) => {
    const result = parsePolicy(readFileSync(file, "utf8"), file);
    expect(result.errors).toEqual([]);
    expect(result.policy).not.toBeNull();
  });

  it("default.yml spells out exactly the built-in defaults", () => {
    const written = parsePolicy(readFileSync(join(policiesDir, "default.yml"), "utf8"), "default.yml");
    const minimal = parsePolicy("version: 1\nbranches:\n  - branch: main\n", "minimal.yml");
    expect(written.policy).toEqual(minimal.policy);
  });

  it("every complete YAML example in docs/policy.md lints with zero errors", () => {
    const doc = readFileSync(fileURLToPath(new URL("../../../docs/policy.md", import.meta.url)), "utf8");
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    // Blocks with "..." are outlines, not policies.
    const complete = blocks.filter((block) => !block.includes("..."));
    expect(complete.length).toBeGreaterThan(0);
    for (const block of complete) expect(parsePolicy(block, "docs/policy.md").errors).toEqual([]);
  });

  it("single-repo.yml only tightens org-wide.yml", () => {
    const org = parsePolicy(readFileSync(join(policiesDir, "examples/org-wide.yml"), "utf8"), "org.yml");
    const repo = parsePolicy(readFileSync(join(policiesDir, "examples/single-repo.yml"), "utf8"), "repo.yml");
    if (org.parsed === null || repo.parsed === null) throw new Error("examples must parse");
    expect(mergePolicies(org.parsed, repo.parsed).errors).toEqual([]);
  });
});
