import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import type { CliIo } from "../src/cli/io.js";

const run = promisify(execFile);
let dir: string;

const GOOD =
  "version: 1\nadmins: ['@acme/admins']\nbranches:\n  - branch: main\n    reviews: {required_approvals: 2}\n";
const BAD = "version: 1\nbranches:\n  - branch: main\n    reveiws: {}\n    protection: {mode: on}\n";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pullgate-policy-cli-"));
  writeFileSync(join(dir, "good.yml"), GOOD);
  writeFileSync(join(dir, "bad.yml"), BAD);
  writeFileSync(
    join(dir, "loose.yml"),
    "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 1}\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A capturing CliIo rooted in the temp dir (importing cli.test.ts would re-register its tests here). */
function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: dir };
}

describe("pullgate policy lint", () => {
  it("exits 0 and prints no errors for a valid file", async () => {
    const out = io();
    expect(await main(["policy", "lint", "good.yml"], out)).toBe(0);
    expect(out.out).toEqual([]);
    expect(out.err.join("\n")).toContain("no errors");
  });

  it("prints file:line:column: message lines and exits 1", async () => {
    const out = io();
    expect(await main(["policy", "lint", "good.yml", "bad.yml"], out)).toBe(1);
    expect(out.out).toEqual([
      "bad.yml:4:5: unknown key `reveiws` in branches[0] (did you mean `reviews`?); allowed: branch, environment, signatures, reviews, paths, protection, promotion, break_glass, secrets",
      'bad.yml:5:24: branches[0].protection.mode: must be one of "off", "audit", "enforce", got string "on"',
    ]);
  });

  it("--json prints exactly one document {errors:[{file,line,column,message}]}", async () => {
    const out = io();
    expect(await main(["policy", "lint", "--json", "bad.yml"], out)).toBe(1);
    expect(out.out).toHaveLength(1);
    const doc = JSON.parse(out.out[0] ?? "") as { errors: unknown[] };
    expect(doc).toEqual({
      errors: [
        {
          file: "bad.yml",
          line: 4,
          column: 5,
          message:
            "unknown key `reveiws` in branches[0] (did you mean `reviews`?); allowed: branch, environment, signatures, reviews, paths, protection, promotion, break_glass, secrets",
        },
        {
          file: "bad.yml",
          line: 5,
          column: 24,
          message: 'branches[0].protection.mode: must be one of "off", "audit", "enforce", got string "on"',
        },
      ],
    });
    const clean = io();
    expect(await main(["policy", "lint", "good.yml", "--json"], clean)).toBe(0);
    expect(JSON.parse(clean.out.join(""))).toEqual({ errors: [] });
  });

  it("--org checks that each file only tightens the org policy", async () => {
    const out = io();
    expect(await main(["policy", "lint", "--org", "good.yml", "loose.yml"], out)).toBe(1);
    expect(out.out).toEqual([
      "loose.yml:4:35: branch `main`: reviews.required_approvals 1 is looser than the org's 2 (good.yml:5:35): fewer approvals would be required",
    ]);
  });

  it("exits 2 for an unreadable file, still linting the others", async () => {
    const out = io();
    expect(await main(["policy", "lint", "--json", "missing.yml", "bad.yml"], out)).toBe(2);
    expect(out.err.join("\n")).toContain("cannot read missing.yml");
    expect((JSON.parse(out.out.join("")) as { errors: unknown[] }).errors).toHaveLength(2);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, "locked.yml");
      writeFileSync(locked, GOOD);
      chmodSync(locked, 0o000);
      expect(await main(["policy", "lint", "locked.yml"], io())).toBe(2);
    }
  });

  it("exits 2 on usage errors", async () => {
    for (const argv of [
      ["policy"],
      ["policy", "check", "x.yml"],
      ["policy", "lint"],
      ["policy", "lint", "--bogus", "x"],
    ]) {
      const out = io();
      expect(await main(argv, out)).toBe(2);
      expect(out.err.join("\n")).toContain("Usage: pullgate policy lint");
    }
  });

  it("show prints the effective policy and its digest; exit 1 with the errors otherwise", async () => {
    const out = io();
    expect(await main(["policy", "show", "--json", "good.yml"], out)).toBe(0);
    const doc = JSON.parse(out.out.join("")) as {
      policy: { branches: unknown[] };
      digest: string;
      errors: [];
    };
    expect(doc.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.policy.branches).toHaveLength(1);
    expect(doc.errors).toEqual([]);
    const merged = io();
    expect(await main(["policy", "show", "--json", "--org", "good.yml", "loose.yml"], merged)).toBe(1);
    expect(JSON.parse(merged.out.join(""))).toMatchObject({ policy: null, digest: null });
    expect(await main(["policy", "show", "missing.yml"], io())).toBe(2);
    expect(await main(["policy", "show", "good.yml", "bad.yml"], io())).toBe(2);
  });

  it("works as the real binary (spawned, from source)", async () => {
    const bin = join(import.meta.dirname, "..", "bin", "pullgate.js");
    const env = { ...process.env, PULLGATE_FROM_SOURCE: "1" };
    const good = await run("node", [bin, "policy", "lint", "--json", join(dir, "good.yml")], { env });
    expect(JSON.parse(good.stdout)).toEqual({ errors: [] });
    const bad = await run("node", [bin, "policy", "lint", join(dir, "bad.yml")], { env }).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect("code" in bad ? bad.code : 0).toBe(1);
    expect(bad.stdout).toContain(`${join(dir, "bad.yml")}:4:5: unknown key \`reveiws\``);
  });
});
