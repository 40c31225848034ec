import { describe, expect, it } from "vitest";
import { CODEOWNERS_LOCATIONS, selectCodeownersFile, selectCodeownersLocation } from "./locate.js";

describe("CODEOWNERS location", () => {
  it("looks in .github/, then the root, then docs/", () => {
    expect(CODEOWNERS_LOCATIONS).toEqual([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]);
  });

  it("uses the first file present and ignores the others", () => {
    const files = new Map([
      ["docs/CODEOWNERS", "* @docs"],
      ["CODEOWNERS", "* @root"],
    ]);
    expect(selectCodeownersFile(files)).toEqual({ path: "CODEOWNERS", content: "* @root" });
    files.set(".github/CODEOWNERS", "");
    // An empty .github/CODEOWNERS still wins: it exists, so the others are not read.
    expect(selectCodeownersFile(files)).toEqual({ path: ".github/CODEOWNERS", content: "" });
  });

  it("returns null when there is no CODEOWNERS file, and ignores other spellings", () => {
    expect(
      selectCodeownersFile(
        new Map([
          ["codeowners", "* @a"],
          [".gitlab/CODEOWNERS", "* @b"],
        ]),
      ),
    ).toBeNull();
    expect(selectCodeownersLocation(() => false)).toBeNull();
    expect(selectCodeownersLocation((p) => p === "docs/CODEOWNERS")).toBe("docs/CODEOWNERS");
  });
});
