import { describe, expect, it } from "vitest";
import { parseCodeowners } from "../../codeowners/index.js";
import { codeownersErrorsRule } from "./codeowners-errors.js";

function rule(text: string, changedFiles: string[]) {
  return codeownersErrorsRule({
    path: ".github/CODEOWNERS",
    errors: parseCodeowners(text).errors,
    changedFiles,
  });
}

describe("codeownersErrorsRule", () => {
  it("passes a clean file", () => {
    expect(rule("* @acme/all\n", ["a.txt"]).status).toBe("pass");
  });

  it("blocks a changed file whose owning line was skipped for an invalid owner (attack: ownership falls back to *)", () => {
    const r = rule("* @acme/all\n/secrets/ @acme/sec @bad!owner\n", ["secrets/prod.yaml", "README.md"]);
    expect(r.status).toBe("fail");
    expect(r.missing).toHaveLength(1);
    expect(JSON.stringify(r.missing)).toContain("secrets/prod.yaml");
    expect(JSON.stringify(r.missing)).not.toContain("README.md");
    expect(r.fix[0]).toContain("line 2");
  });

  it("only notes an invalid line no changed file falls under", () => {
    const r = rule("* @acme/all\n/secrets/ @bad!owner\n", ["README.md"]);
    expect(r.status).toBe("pass");
    expect(r.notes?.[0]).toContain(":2:");
  });

  it("notes unsupported syntax, which GitHub ignores too", () => {
    const r = rule("* @acme/all\n!secrets/ @acme/sec\n", ["secrets/x"]);
    expect(r.status).toBe("pass");
    expect(r.notes?.join(" ")).toContain("Unsupported syntax");
  });
});
