import { describe, expect, it } from "vitest";
import { PatternError } from "../reviews/pattern.js";
import { addedLines, isAllowed, isBinaryPath, looksBinary } from "./facts.js";

describe("secret facts helpers", () => {
  it("addedLines: only lines the head adds count; a moved line is old, a duplicated one is new", () => {
    const base = "a\nb\nc\n";
    expect([...addedLines(base, "a\nb\nc\n")]).toEqual([]);
    expect([...addedLines(base, "c\na\nb\n")]).toEqual([]);
    expect([...addedLines(base, "a\nsecret: x\nb\nc\n")]).toEqual([2]);
    // A second copy of a base line is new: the base had only one.
    expect([...addedLines(base, "a\na\nb\nc\n")]).toEqual([2]);
    expect([...addedLines("", "x\r\ny")]).toEqual([1, 2]);
  });

  it("isBinaryPath: formats binary by construction, by extension only", () => {
    expect(isBinaryPath("assets/logo.PNG")).toBe(true);
    expect(isBinaryPath("charts/app-1.0.0.tgz")).toBe(true);
    expect(isBinaryPath("apps/secret.yaml")).toBe(false);
    expect(isBinaryPath("keys.png/secret")).toBe(false);
    expect(isBinaryPath("Dockerfile")).toBe(false);
  });

  it("looksBinary: a NUL byte in the first 8,000 bytes, like git", () => {
    expect(looksBinary(Buffer.from("plain text"))).toBe(false);
    expect(looksBinary(Buffer.from([0x50, 0x00, 0x4e]))).toBe(true);
    expect(looksBinary(Buffer.concat([Buffer.alloc(8_000, 0x61), Buffer.from([0])]))).toBe(false);
  });

  it("isAllowed: a pattern the matcher refuses allows nothing (fail closed)", () => {
    const matcher = (pattern: string, path: string) => {
      if (pattern === "bad") throw new PatternError(pattern, "unsupported");
      return path.startsWith(pattern);
    };
    expect(isAllowed(["fixtures/"], matcher, "fixtures/a.yaml")).toBe(true);
    expect(isAllowed(["bad"], matcher, "bad/a.yaml")).toBe(false);
    expect(isAllowed([], matcher, "x")).toBe(false);
  });
});
