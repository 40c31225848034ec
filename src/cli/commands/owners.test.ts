import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../io.js";
import { main } from "../main.js";

function captureIo(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd };
}

const CODEOWNERS = [
  "# default",
  "*       @org/platform",
  "*.yaml  @org/yaml   # inline comment",
  "/clusters/prod/ @org/sre ops@example.com",
  "/apps/legacy",
  "",
].join("\n");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullgate-owners-"));
  await mkdir(join(dir, ".github"));
  await writeFile(join(dir, ".github", "CODEOWNERS"), CODEOWNERS);
  await writeFile(join(dir, "BROKEN"), "* @a\n!secret/ @b\ndocs/ not-an-owner\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pullgate owners", () => {
  it("prints the contract JSON and exits 0 for a clean file", async () => {
    const io = captureIo(dir);
    const code = await main(
      [
        "owners",
        "--codeowners",
        ".github/CODEOWNERS",
        "--json",
        "clusters/prod/app.yaml",
        "README.md",
        "apps/legacy/x",
      ],
      io,
    );
    expect(code).toBe(0);
    expect(io.out).toHaveLength(1);
    expect(JSON.parse(io.out[0] ?? "")).toEqual({
      results: [
        { path: "clusters/prod/app.yaml", owners: ["@org/sre", "ops@example.com"], line: 4 },
        { path: "README.md", owners: ["@org/platform"], line: 2 },
        { path: "apps/legacy/x", owners: [], line: 5 },
      ],
      errors: [],
    });
    expect(io.err).toEqual([]);
  });

  it("prints `path  owners` in text mode, and accepts ./ and / prefixes", async () => {
    const io = captureIo(dir);
    const code = await main(
      ["owners", "--codeowners", ".github/CODEOWNERS", "./x.yaml", "/apps/legacy/y"],
      io,
    );
    expect(code).toBe(0);
    expect(io.out).toEqual(["./x.yaml        @org/yaml", "/apps/legacy/y  (no owners)"]);
  });

  it("reports errors with line, column and kind, still prints results, and exits 1", async () => {
    const io = captureIo(dir);
    const code = await main(["owners", "--codeowners", "BROKEN", "--json", "secret/key", "docs/a"], io);
    expect(code).toBe(1);
    const doc = JSON.parse(io.out[0] ?? "");
    expect(doc.results).toEqual([
      { path: "secret/key", owners: ["@a"], line: 1 },
      { path: "docs/a", owners: ["@a"], line: 1 },
    ]);
    expect(doc.errors).toEqual([
      { line: 2, column: 1, kind: "Unsupported syntax", message: expect.stringContaining("negation") },
      { line: 3, column: 7, kind: "Invalid owner", message: expect.stringContaining("not-an-owner") },
    ]);
    expect(io.err.join("\n")).toContain("BROKEN: Unsupported syntax on line 2, column 1");
  });

  it("treats a file of 3 MB or more as GitHub does: no rules, one error, exit 1", async () => {
    const big = join(dir, "BIG");
    await writeFile(big, "* @a\n");
    await truncate(big, 3 * 1024 * 1024);
    const io = captureIo(dir);
    expect(await main(["owners", "--codeowners", "BIG", "--json", "x"], io)).toBe(1);
    const doc = JSON.parse(io.out[0] ?? "");
    expect(doc.results).toEqual([{ path: "x", owners: [], line: null }]);
    expect(doc.errors).toEqual([expect.objectContaining({ kind: "File too large", line: 1 })]);
  });

  it("exits 2 for a missing file, a directory, no --codeowners, or no paths", async () => {
    const cases = [
      ["owners", "--codeowners", "missing", "x"],
      ["owners", "--codeowners", ".github", "x"],
      ["owners", "x"],
      ["owners", "--codeowners", ".github/CODEOWNERS"],
      ["owners", "--codeowners", ".github/CODEOWNERS", "--bogus", "x"],
    ];
    for (const argv of cases) {
      const io = captureIo(dir);
      expect(await main(argv, io)).toBe(2);
      expect(io.out).toEqual([]);
      expect(io.err.join("")).not.toBe("");
    }
  });

  it("runs as the real binary", async () => {
    const root = join(import.meta.dirname, "..", "..", "..");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(root, "bin", "pullgate.js"),
        "owners",
        "--codeowners",
        join(dir, ".github", "CODEOWNERS"),
        "--json",
        "a.yaml",
      ],
      { env: { ...process.env, PULLGATE_FROM_SOURCE: "1" } },
    );
    expect(JSON.parse(stdout)).toEqual({
      results: [{ path: "a.yaml", owners: ["@org/yaml"], line: 3 }],
      errors: [],
    });
  });
});
