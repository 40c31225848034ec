import { describe, expect, it } from "vitest";
import { effectivePolicy } from "./effective.js";

const org = {
  text: "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 2}\n",
  file: "org.yml",
};
const tighter = {
  text: "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 3}\n",
  file: "repo.yml",
};
const looser = {
  text: "version: 1\nbranches:\n  - branch: main\n    reviews: {required_approvals: 1}\n",
  file: "repo.yml",
};
const broken = { text: "version: 1\nbranches: [\n", file: "broken.yml" };

describe("effectivePolicy", () => {
  it("no files: not governed (no policy, no errors)", () => {
    expect(effectivePolicy(null, null)).toEqual({ policy: null, errors: [] });
  });

  it("only one file: that file's policy", () => {
    expect(effectivePolicy(org, null).policy?.branches[0]?.reviews.requiredApprovals).toBe(2);
    expect(effectivePolicy(null, looser).policy?.branches[0]?.reviews.requiredApprovals).toBe(1);
  });

  it("both: the merge, which refuses loosening", () => {
    expect(effectivePolicy(org, tighter).policy?.branches[0]?.reviews.requiredApprovals).toBe(3);
    const loose = effectivePolicy(org, looser);
    expect(loose.policy).toBeNull();
    expect(loose.errors).toHaveLength(1);
  });

  it("fails closed when either existing file is broken (no fallback to the other)", () => {
    for (const [o, r] of [
      [broken, looser],
      [org, broken],
    ] as const) {
      const result = effectivePolicy(o, r);
      expect(result.policy).toBeNull();
      expect(result.errors.map((e) => e.file)).toEqual(["broken.yml"]);
    }
  });
});
