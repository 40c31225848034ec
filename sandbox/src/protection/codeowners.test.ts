import { describe, expect, it } from "vitest";
import { codeOwnersOf } from "./codeowners.js";

const FILE = [
  "# comment",
  "*       @everyone",
  "*.js    @js-owner # inline comment",
  "/build/logs/ @logs",
  "docs/*  @docs",
  "apps/   @apps",
  "/scripts/ @scripts",
  "!ignored.txt @nobody",
  "/unowned.txt",
].join("\n");

describe("sandbox CODEOWNERS (simplified GitHub semantics)", () => {
  it.each([
    ["README.md", ["@everyone"]],
    ["src/deep/file.js", ["@js-owner"]],
    ["build/logs/x.log", ["@logs"]],
    ["nested/build/logs/x.log", ["@everyone"]],
    ["docs/getting-started.md", ["@docs"]],
    ["docs/build-app/troubleshooting.md", ["@everyone"]],
    ["apps/web/main.ts", ["@apps"]],
    ["src/apps/web/main.ts", ["@apps"]],
    ["scripts/run.sh", ["@scripts"]],
    ["ignored.txt", ["@everyone"]],
    ["unowned.txt", []],
  ])("%s → %j", (path, owners) => {
    expect(codeOwnersOf(FILE, path)).toEqual(owners);
  });

  it("no matching rule means no owners", () => {
    expect(codeOwnersOf("/app/ @team", "other/file")).toBeNull();
  });
});
