/**
 * No false positive on pullgate's own repository content: its policies, docs, deployment files
 * and the files `pullgate demo` seeds into its GitOps repository. A rule that fails the project's
 * own examples would be switched off by its first user.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BASE_CODEOWNERS, gitopsPolicy } from "../../demo/seed.js";
import { matchesPattern } from "../reviews/pattern.js";
import { scanFiles } from "./scan.js";
import type { ScannedFile } from "./types.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

function walk(dir: string, keep: (path: string) => boolean): ScannedFile[] {
  const absolute = join(root, dir);
  if (!existsSync(absolute)) return [];
  const out: ScannedFile[] = [];
  for (const name of readdirSync(absolute)) {
    const path = join(absolute, name);
    if (statSync(path).isDirectory()) out.push(...walk(relative(root, path), keep));
    else if (keep(name)) out.push({ path: relative(root, path), text: readFileSync(path, "utf8") });
  }
  return out;
}

/** The files the demo world writes into its repositories, as `"path.yaml": "content"` literals. */
function demoSeededFiles(): ScannedFile[] {
  const out: ScannedFile[] = [];
  for (const source of ["src/demo/world.ts", "src/demo/steps.ts"]) {
    const text = readFileSync(join(root, source), "utf8");
    for (const match of text.matchAll(/"([^"\s]+\.ya?ml)":\s*("(?:[^"\\]|\\.)*")/g)) {
      out.push({ path: match[1] ?? "", text: JSON.parse(match[2] ?? '""') as string });
    }
  }
  return out;
}

const scan = (files: ScannedFile[]) => scanFiles({ files, allow: [], matchesPattern });

describe("the project's own files hold no secret the scanner would flag", () => {
  it("policies/**", () => {
    const files = walk("policies", () => true);
    expect(files.length).toBeGreaterThan(0);
    expect(scan(files).findings).toEqual([]);
  });

  it("docs/*.md, README.md and app.yml", () => {
    const files = [
      ...walk("docs", (name) => name.endsWith(".md")),
      ...["README.md", "app.yml"].map((path) => ({ path, text: readFileSync(join(root, path), "utf8") })),
    ];
    expect(files.length).toBeGreaterThan(2);
    expect(scan(files).findings).toEqual([]);
  });

  it("deploy/** (when present)", () => {
    expect(scan(walk("deploy", () => true)).findings).toEqual([]);
  });

  it("the demo's seeded policy, CODEOWNERS and manifests", () => {
    const seeded = demoSeededFiles();
    expect(seeded.length).toBeGreaterThan(3);
    const files: ScannedFile[] = [
      { path: ".github/pullgate.yml", text: gitopsPolicy() },
      {
        path: ".github/pullgate.yml",
        text: gitopsPolicy({ lastPushApproval: true, openpgpKeyrings: ["keys/a.asc"], trustWebFlow: true }),
      },
      { path: ".github/CODEOWNERS", text: BASE_CODEOWNERS },
      ...seeded,
    ];
    expect(scan(files).findings).toEqual([]);
  });
});
