/**
 * The dependency rules of docs/architecture.md ("Layers") catch what they exist to catch: each case
 * builds a small tree with one forbidden (or allowed) import and runs the same check as
 * `npm run lint:layers` on it, with the repository's own .dependency-cruiser.cjs. The repository
 * itself is checked by `npm run lint:layers` (part of `npm test`).
 */

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { checkedRoots, cycleProblems, importCycles, layerViolations } from "./check.js";

const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const roots: string[] = [];

/** A tree with the repository's layer config and tsconfig, and the given files. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "pullgate-layers-"));
  roots.push(root);
  copyFileSync(join(repo, ".dependency-cruiser.cjs"), join(root, ".dependency-cruiser.cjs"));
  writeFileSync(
    join(root, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const value = (name: string) => `export const ${name} = 1;\n`;

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("layer rule", () => {
  const cases: { name: string; files: Record<string, string>; rule: string | null }[] = [
    {
      name: "core imports record",
      files: { "src/core/a.ts": 'export { b } from "../record/b.js";\n', "src/record/b.ts": value("b") },
      rule: "layer-core",
    },
    {
      name: "record imports the GitHub adapter",
      files: { "src/record/a.ts": 'export { b } from "../github/b.js";\n', "src/github/b.ts": value("b") },
      rule: "layer-record",
    },
    {
      name: "the agent imports the CLI (a type-only import counts)",
      files: {
        "src/agent/a.ts": 'import type { B } from "../cli/b.js";\nexport const a: B = 1;\n',
        "src/cli/b.ts": "export type B = number;\n",
      },
      rule: "layer-agent",
    },
    {
      name: "the GitHub adapter imports its sibling, the agent",
      files: { "src/github/a.ts": 'export { b } from "../agent/b.js";\n', "src/agent/b.ts": value("b") },
      rule: "layer-github",
    },
    {
      name: "the app's server imports the emulator",
      files: { "src/server.ts": 'export { b } from "./sandbox/b.js";\n', "src/sandbox/b.ts": value("b") },
      rule: "layer-server",
    },
    {
      name: "the emulator imports the core",
      files: { "src/sandbox/a.ts": 'export { b } from "../core/b.js";\n', "src/core/b.ts": value("b") },
      rule: "layer-sandbox",
    },
    {
      name: "product code imports a test helper",
      files: { "src/github/a.ts": 'export { b } from "../../test/b.js";\n', "test/b.ts": value("b") },
      rule: "layer-github",
    },
    {
      name: "an import that resolves to no file",
      files: { "src/github/a.ts": 'export { b } from "./missing.js";\n' },
      rule: "not-resolvable",
    },
    {
      name: "a module of no layer",
      files: { "src/stray.ts": 'export { b } from "./core/b.js";\n', "src/core/b.ts": value("b") },
      rule: "layer-unknown",
    },
    {
      name: "the CLI imports the core, the demo the emulator, the adapter record (allowed)",
      files: {
        "src/cli/a.ts": 'export { b } from "../core/b.js";\n',
        "src/core/b.ts": value("b"),
        "src/demo/c.ts": 'export { d } from "../sandbox/d.js";\n',
        "src/sandbox/d.ts": value("d"),
        "src/github/e.ts": 'export { f } from "../record/f.js";\n',
        "src/record/f.ts": 'export { b as f } from "../core/b.js";\n',
      },
      rule: null,
    },
    {
      name: "a test may import across layers (allowed)",
      files: { "src/core/a.test.ts": 'export { b } from "../github/b.js";\n', "src/github/b.ts": value("b") },
      rule: null,
    },
  ];

  for (const { name, files, rule } of cases) {
    it(`${rule === null ? "passes" : `refuses (${rule})`}: ${name}`, async () => {
      const violations = await layerViolations(tree(files), ["src"]);
      if (rule === null) expect(violations).toEqual([]);
      else {
        expect(violations).toHaveLength(1);
        expect(violations[0]).toMatch(new RegExp(`^${rule}: `));
      }
    });
  }

  it("covers the emulator's package when sandbox/ exists", async () => {
    const root = tree({
      "sandbox/src/a.ts": 'export { b } from "../../src/core/b.js";\n',
      "src/core/b.ts": value("b"),
    });
    const dirs = checkedRoots(root);
    expect(dirs).toEqual({ layers: ["src", "sandbox"], cycles: ["src", "sandbox/src"] });
    const violations = await layerViolations(root, dirs.layers);
    expect(violations).toEqual(["layer-sandbox-package: sandbox/src/a.ts → src/core/b.ts"]);
  });
});

describe("cycle check", () => {
  it("finds a cycle made of a type-only import", async () => {
    const root = tree({
      "src/github/a.ts": 'import type { B } from "./b.js";\nexport type A = B;\nexport const a = 1;\n',
      "src/github/b.ts": 'import { a } from "./a.js";\nexport type B = number;\nexport const b = a;\n',
    });
    expect(await importCycles(root, ["src"])).toEqual([["src/github/a.ts", "src/github/b.ts"]]);
  });

  it("leaves src/sandbox out and covers sandbox/src", async () => {
    const cycle = (dir: string) => ({
      [`${dir}/a.ts`]: 'import { b } from "./b.js";\nexport const a = () => b;\n',
      [`${dir}/b.ts`]: 'import { a } from "./a.js";\nexport const b = () => a;\n',
    });
    const root = tree({ ...cycle("src/sandbox"), ...cycle("sandbox/src") });
    expect(await importCycles(root, checkedRoots(root).cycles)).toEqual([
      ["sandbox/src/a.ts", "sandbox/src/b.ts"],
    ]);
  });

  it("reports unknown cycles and known cycles that are gone", () => {
    const known = [["src/x.ts", "src/y.ts"]];
    expect(cycleProblems([["src/x.ts", "src/y.ts"]], known)).toEqual([]);
    expect(cycleProblems([["src/p.ts", "src/q.ts"]], known)).toEqual([
      "import cycle: src/p.ts → src/q.ts → src/p.ts",
      "known cycle src/x.ts ↔ src/y.ts is gone: delete it from KNOWN_CYCLES in test/layering/check.ts",
    ]);
  });
});
