import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import type { CliIo } from "../src/cli/io.js";

export function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: process.cwd() };
}

describe("pullgate CLI entry", () => {
  it("prints help on --help and exits 0", async () => {
    const io = captureIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out.join("")).toContain("Usage: pullgate <command>");
  });

  it("exits 2 with usage when no command is given", async () => {
    const io = captureIo();
    expect(await main([], io)).toBe(2);
    expect(io.err.join("")).toContain("Usage:");
  });

  it("exits 2 on an unknown command and never resolves prototype keys as commands", async () => {
    for (const name of ["frobnicate", "constructor", "__proto__", "toString"]) {
      const io = captureIo();
      expect(await main([name], io)).toBe(2);
      expect(io.err.join("")).toContain(`unknown command "${name}"`);
    }
  });
});
