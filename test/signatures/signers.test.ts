/**
 * "Signers are people" (issue 12, finding 2), the pure part: which person a key is, whether that
 * person may sign the commit (signatures.signer_identity), and who signed for the review rules.
 * The attack each test prevents is in its name.
 */
import { describe, expect, it } from "vitest";
import type { SignaturePolicy } from "../../src/core/policy/types.js";
import {
  commitSigners,
  evaluateSignatures,
  type CommitSignatureFacts,
} from "../../src/core/signatures/policy-hooks.js";
import { parseSignerLogins } from "../../src/core/signatures/signer-logins.js";
import { emailLoginsOf, signerPerson } from "../../src/core/signatures/signer-person.js";
import type { SignatureVerdict } from "../../src/core/signatures/types.js";

const BOB_FPR = "C4D4E5E17B7BD233F84EE4D3A14D9D290C31CD96";
const BOB_SSH = "SHA256:odjOAdfZb04bOu7vFvPjBnbe7syYw3DCSlXMxc+rSJs";
const sha = (n: number) => n.toString(16).padStart(40, "b");
const never = () => false;

const policy = (over: Partial<SignaturePolicy> = {}): SignaturePolicy => ({
  required: true,
  openpgpKeyrings: [".github/pullgate/keys"],
  sshAllowedSigners: ".github/pullgate/allowed_signers",
  trustWebFlow: false,
  signerIdentity: "author_or_committer",
  signerLogins: null,
  scopes: [],
  ...over,
});

const pgp = (n: number, emails: string[], fpr = BOB_FPR): SignatureVerdict => ({
  commit: sha(n),
  verified: true,
  format: "openpgp",
  signer: `${fpr} Bob <${emails[0] ?? ""}>`,
  keyFingerprint: fpr,
  signerEmail: emails[0] ?? null,
  signerEmails: emails,
  reason: "good signature",
});

const ssh = (n: number, principal: string): SignatureVerdict => ({
  commit: sha(n),
  verified: true,
  format: "ssh",
  signer: `${principal} (ED25519 ${BOB_SSH})`,
  keyFingerprint: BOB_SSH,
  signerEmail: principal,
  signerEmails: [principal],
  reason: "good",
});

const alice = { email: "alice@example.org", login: "alice" };
const bob = { email: "bob@example.org", login: "bob" };

function commit(
  verdict: SignatureVerdict,
  author: { email: string; login: string | null },
  committer: { email: string; login: string | null } = author,
  over: Partial<CommitSignatureFacts> = {},
): CommitSignatureFacts {
  return {
    sha: verdict.commit,
    verdict,
    authorEmail: author.email,
    authorLogin: author.login,
    committerEmail: committer.email,
    committerLogin: committer.login,
    ...over,
  };
}

describe("signer_identity: author_or_committer (the default)", () => {
  it("the attack: alice authors and commits, bob's key signs: refused, naming the key and who it is", () => {
    const facts = [commit(ssh(1, bob.email), alice)];
    const file = parseSignerLogins(`@bob ${BOB_SSH}\n`);
    const r = evaluateSignatures(policy({ signerLogins: "signers" }), facts, never, file);
    expect(r.status).toBe("fail");
    expect(r.missing).toEqual([
      {
        kind: "signature",
        commit: sha(1),
        reason:
          "the key's owner (@bob) is neither the author (alice@example.org) nor the committer (alice@example.org)",
        signer: `bob@example.org (ED25519 ${BOB_SSH}), key of @bob`,
      },
    ]);
    expect(r.fix[0]).toContain("must be signed by its author or committer");
    // The review rules still learn that bob signed: his approval will not count either.
    expect(commitSigners(policy(), facts, file)).toEqual([{ commit: sha(1), login: "bob" }]);
  });

  it("the signer may be the committer (bob commits alice's patch) or the author; emails compare case-insensitively", () => {
    expect(evaluateSignatures(policy(), [commit(ssh(1, bob.email), alice, bob)], never).status).toBe("pass");
    expect(evaluateSignatures(policy(), [commit(ssh(1, "BOB@example.org"), bob, alice)], never).status).toBe(
      "pass",
    );
  });

  it("a key matches a side through its login too: bob's key (linked by fingerprint) signs as bob's other email", () => {
    const other = { email: "bob@users.noreply.example", login: "bob" };
    const file = parseSignerLogins(`bob ${BOB_FPR}\n`);
    const r = evaluateSignatures(
      policy({ signerLogins: "signers" }),
      [commit(pgp(1, [bob.email]), other)],
      never,
      file,
    );
    expect(r.status).toBe("pass");
    expect(r.satisfied).toEqual([`bbbbbbb signed by ${BOB_FPR} Bob <bob@example.org>, key of @bob`]);
  });

  it("the author's GitHub login only vouches for the author email: it does not make bob's key alice's", () => {
    // The author email is alice's; GitHub reports the account that owns that email (alice).
    const r = evaluateSignatures(policy(), [commit(ssh(1, bob.email), alice)], never);
    expect(r.status).toBe("fail");
  });

  it("signer_identity author: the committer is not enough", () => {
    const p = policy({ signerIdentity: "author" });
    const r = evaluateSignatures(p, [commit(ssh(1, bob.email), alice, bob)], never);
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({
      reason: "the key's owner (@bob) is not the author (alice@example.org)",
    });
  });

  it("signer_identity any: any trusted key may sign, if it maps to a person", () => {
    const p = policy({ signerIdentity: "any" });
    const file = parseSignerLogins(`bob ${bob.email}\n`);
    expect(
      evaluateSignatures({ ...p, signerLogins: "s" }, [commit(ssh(1, bob.email), alice)], never, file).status,
    ).toBe("pass");
  });
});

describe("a key must be one person (fail closed)", () => {
  it("a key that maps to no GitHub account fails: nobody could tell whether its owner approved", () => {
    const p = policy({ signerIdentity: "any" });
    const r = evaluateSignatures(p, [commit(ssh(1, "ci@example.org"), alice)], never);
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({
      reason:
        "the signing key maps to no GitHub account, so pullgate cannot tell whether its owner also approved",
      signer: `ci@example.org (ED25519 ${BOB_SSH}), key of an unknown GitHub account`,
    });
    expect(r.fix[0]).toContain("signatures.signer_logins");
    // Even under the default, a committer email GitHub links to no account leaves the signer unknown.
    const unlinked = { email: "bob@example.org", login: null };
    expect(evaluateSignatures(policy(), [commit(ssh(1, bob.email), unlinked)], never).status).toBe("fail");
  });

  it("a key linked to two people fails: the file says bob, the key's email is GitHub's alice", () => {
    const file = parseSignerLogins(`bob ${BOB_SSH}\n`);
    const r = evaluateSignatures(
      policy({ signerLogins: "signers" }),
      [commit(ssh(1, alice.email), alice)],
      never,
      file,
    );
    expect(r.status).toBe("fail");
    expect(r.missing[0]).toMatchObject({
      reason: expect.stringContaining("the signing key is linked to more than one person"),
      signer: `alice@example.org (ED25519 ${BOB_SSH}), key of @alice or @bob`,
    });
    // Both candidates are signers for the review rules: neither may approve.
    expect(commitSigners(policy(), [commit(ssh(1, alice.email), alice)], file)).toEqual([
      { commit: sha(1), login: "alice" },
      { commit: sha(1), login: "bob" },
    ]);
  });

  it("an OpenPGP key whose user IDs are two people's emails is ambiguous", () => {
    const facts = [commit(pgp(1, [alice.email, bob.email]), alice), commit(ssh(2, bob.email), bob)];
    const person = signerPerson(facts[0]!.verdict, null, emailLoginsOf(facts));
    expect(person.logins).toEqual(["alice", "bob"]);
    expect(evaluateSignatures(policy(), facts, never).status).toBe("fail");
  });

  it("a signer-logins file with any error makes the rule an error, never a partial mapping", () => {
    const file = parseSignerLogins(`bob ${BOB_SSH}\nbroken_line x\n`);
    const r = evaluateSignatures(
      policy({ signerLogins: ".github/pullgate/signers" }),
      [commit(ssh(1, bob.email), bob)],
      never,
      file,
    );
    expect(r.status).toBe("error");
    expect(r.missing).toEqual([
      { kind: "facts", reason: ".github/pullgate/signers line 2: `broken_line` is not a GitHub login" },
    ]);
    // Also when signatures are not required: the mapping still decides self-approvals.
    expect(evaluateSignatures(policy({ required: false, signerLogins: "s" }), [], never, file).status).toBe(
      "error",
    );
  });

  it("a signer-logins file the policy names but the adapter did not read is an error", () => {
    const r = evaluateSignatures(
      policy({ signerLogins: "s" }),
      [commit(ssh(1, bob.email), bob)],
      never,
      null,
    );
    expect(r).toMatchObject({
      status: "error",
      missing: [{ kind: "facts", reason: "the signer-logins file s was not read" }],
    });
  });
});

describe("commitSigners: who signed, for the review rules", () => {
  it("lists the person of every verified commit, not unsigned ones nor GitHub's trusted web-flow merges", () => {
    const webflow = commit(pgp(3, ["noreply@github.com"], "968479A1AFF927E37D1A566BB5690EEEBB952194"), {
      email: "noreply@github.com",
      login: "web-flow",
    });
    const unsigned: CommitSignatureFacts = {
      ...commit(ssh(2, bob.email), bob),
      verdict: { ...ssh(2, bob.email), verified: false, signer: null, reason: "no signature" },
    };
    const facts = [commit(ssh(1, bob.email), alice, bob), unsigned, { ...webflow, isWebFlowMerge: true }];
    expect(commitSigners(policy({ trustWebFlow: true }), facts, null)).toEqual([
      { commit: sha(1), login: "bob" },
    ]);
    // Without trust_web_flow a web-flow commit is an ordinary one: its key's person is listed.
    expect(commitSigners(policy(), facts, null)).toEqual([
      { commit: sha(1), login: "bob" },
      { commit: sha(3), login: "web-flow" },
    ]);
  });

  it("a verdict for another commit (a swapped cache entry) names no signer", () => {
    const facts = [commit(ssh(1, bob.email), bob, bob, { sha: sha(9) })];
    expect(commitSigners(policy(), facts, null)).toEqual([]);
  });
});
