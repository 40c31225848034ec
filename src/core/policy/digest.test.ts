import { describe, expect, it } from "vitest";
import { canonicalJson, policyDigest } from "./digest.js";
import { parsePolicy } from "./parse.js";
import type { Policy } from "./types.js";

function policyOf(text: string): Policy {
  const result = parsePolicy(text, "p.yml");
  expect(result.errors).toEqual([]);
  if (result.policy === null) throw new Error("expected a policy");
  return result.policy;
}

describe("canonicalJson", () => {
  it("sorts keys at every depth, keeps array order, has no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x y" } })).toBe(
      '{"a":{"c":"x y","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("escapes strings like JSON and omits undefined members", () => {
    expect(canonicalJson({ k: 'a"\n\u2028', u: undefined })).toBe('{"k":"a\\"\\n\u2028"}');
  });

  it("refuses values JSON cannot represent", () => {
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

describe("policyDigest", () => {
  const a = `version: 1
admins: ["@acme/admins"]
branches:
  - branch: main
    environment: production
    reviews: {required_approvals: 2, require_code_owner_review: true}
`;
  it("is sha256 over canonical JSON", () => {
    expect(policyDigest(policyOf(a))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("is stable across key order, quoting, comments, case of principals and defaults written out", () => {
    const reordered = `# reordered
branches:
  - reviews:
      require_code_owner_review: true
      required_approvals: 2
    environment: "production"
    branch: 'main'
admins:
  - "@ACME/Admins"
version: 1
`;
    const withDefaults = a.replace(
      "require_code_owner_review: true}",
      "require_code_owner_review: true, dismiss_stale_approvals: true}",
    );
    expect(policyDigest(policyOf(reordered))).toBe(policyDigest(policyOf(a)));
    expect(policyDigest(policyOf(withDefaults))).toBe(policyDigest(policyOf(a)));
  });

  it("is stable across object key order of the model itself", () => {
    const policy = policyOf(a);
    const reverse = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverse)
        : value !== null && typeof value === "object"
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reverse(v)]),
            )
          : value;
    const reversed = reverse(policy) as Policy;
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(policy));
    expect(policyDigest(reversed)).toBe(policyDigest(policy));
  });

  it("changes when any meaningful value changes", () => {
    const base = policyDigest(policyOf(a));
    const variants = [
      a.replace("required_approvals: 2", "required_approvals: 3"),
      a.replace("environment: production", "environment: prod"),
      a.replace('admins: ["@acme/admins"]', 'admins: ["@acme/other"]'),
      a + "sensitive_paths: [/x]\n",
      a + "records: {ref_prefix: rec/}\n",
    ];
    const digests = variants.map((text) => policyDigest(policyOf(text)));
    expect(new Set([base, ...digests]).size).toBe(variants.length + 1);
  });
});
