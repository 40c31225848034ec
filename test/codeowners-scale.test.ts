import { describe, expect, it } from "vitest";
import { generateCodeowners, generatePaths, RULES } from "../bench/codeowners.bench.js";
import { compileCodeowners, compileCodeownersNaive } from "../src/core/codeowners/match.js";
import { parseCodeowners } from "../src/core/codeowners/parse.js";

// The benchmark's generated monorepo, checked for correctness (no timing here: that is bench/).
describe("CODEOWNERS at the benchmark's scale", () => {
  const parsed = parseCodeowners(generateCodeowners());

  it("the generated file has exactly the intended rules and no errors", () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toHaveLength(RULES);
  });

  it("the indexed matcher answers exactly like the naive scan on 1,000 generated paths", () => {
    const indexed = compileCodeowners(parsed);
    const naive = compileCodeownersNaive(parsed);
    const paths = generatePaths(1000, 7);
    const lines = new Set<number | null>();
    for (const path of paths) {
      const expected = naive.ownersOf(path);
      expect(indexed.ownersOf(path)).toEqual(expected);
      lines.add(expected.line);
    }
    // The sample exercises many different rules, not one catch-all.
    expect(lines.size).toBeGreaterThan(300);
  });
});
