/**
 * signatures.signer_identity, signatures.signer_logins and the legacy
 * require_signer_matches_author (docs/policy.md, "Who signed: keys are people").
 */
import { describe, expect, it } from "vitest";
import { mergePolicies } from "./merge.js";
import { parsePolicy } from "./parse.js";

const FILE = "acme/deploy:.github/pullgate.yml";

function main(signatures: string) {
  const text = `version: 1\nbranches:\n  - branch: main\n    signatures: {${signatures}}\n`;
  const result = parsePolicy(text, FILE);
  expect(result.errors).toEqual([]);
  const branch = result.policy?.branches[0];
  if (branch === undefined) throw new Error("no branch");
  return { branch, policy: result.policy, parsed: result.parsed };
}

describe("signer_identity", () => {
  it("defaults to author_or_committer (strict), with no signer-logins file", () => {
    expect(main("").branch.signatures).toMatchObject({
      signerIdentity: "author_or_committer",
      signerLogins: null,
    });
  });

  it.each([
    ["require_signer_matches_author: true", "author"],
    // false used to mean "any signer"; it no longer relaxes anything.
    ["require_signer_matches_author: false", "author_or_committer"],
    ["signer_identity: any", "any"],
    ["signer_identity: any, require_signer_matches_author: false", "any"],
    // The legacy key only tightens: the stricter of the two wins.
    ["signer_identity: any, require_signer_matches_author: true", "author"],
    ["signer_identity: author_or_committer, require_signer_matches_author: true", "author"],
  ])("%s -> %s", (signatures, expected) => {
    expect(main(signatures).branch.signatures.signerIdentity).toBe(expected);
  });

  it("refuses an unknown value", () => {
    const result = parsePolicy(
      "version: 1\nbranches:\n  - branch: main\n    signatures: {signer_identity: nobody}\n",
      FILE,
    );
    expect(result.policy).toBeNull();
    expect(result.errors[0]?.message).toContain("signer_identity");
  });

  it("the signer-logins file is a sensitive path (editing it needs an admin), like a keyring", () => {
    const { policy } = main('signer_logins: ".github/pullgate/signers"');
    expect(policy?.sensitivePaths).toContain("/.github/pullgate/signers");
    expect(policy?.branches[0]?.signatures.signerLogins).toBe(".github/pullgate/signers");
  });

  it("attack: a repository writing the legacy key false cannot undo the org's true", () => {
    const org = parsePolicy(
      "version: 1\nbranches:\n  - branch: main\n    signatures: {require_signer_matches_author: true}\n",
      "acme/.github:.github/pullgate.yml",
    ).parsed;
    const repo = parsePolicy(
      "version: 1\nbranches:\n  - branch: main\n    signatures: {require_signer_matches_author: false, signer_identity: any}\n",
      FILE,
    ).parsed;
    if (org === null || repo === null) throw new Error("unparsed");
    const merged = mergePolicies(org, repo);
    expect(merged.policy).toBeNull();
    expect(merged.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^branch `main`: signatures\.signer_identity "any" is looser than the org's "author" \(acme\/\.github:\.github\/pullgate\.yml:4:49\): someone else's key could sign for an author$/,
      ),
    ]);
  });
});
