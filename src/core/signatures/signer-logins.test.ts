import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalIdentity, parseSignerLogins } from "./signer-logins.js";

const FPR = "c4d4e5e17b7bd233f84ee4d3a14d9d290c31cd96";
const SSH = "SHA256:odjOAdfZb04bOu7vFvPjBnbe7syYw3DCSlXMxc+rSJs";

describe("parseSignerLogins", () => {
  it("reads logins and their identities; comments, blank lines, CRLF and a leading @ are fine", () => {
    const file = parseSignerLogins(
      [
        "# login identities",
        "",
        `@Alice  alice@Example.org\t${SSH}`,
        `bob ${FPR}`,
        "   # indented comment",
        "bob bob@example.org\r",
      ].join("\n"),
    );
    expect(file.errors).toEqual([]);
    expect(file.entries).toEqual([
      { line: 3, login: "alice", identities: ["alice@example.org", SSH] },
      { line: 4, login: "bob", identities: [FPR.toUpperCase()] },
      { line: 6, login: "bob", identities: ["bob@example.org"] },
    ]);
    expect(file.byIdentity.get(FPR.toUpperCase())).toBe("bob");
    expect(file.byIdentity.get("alice@example.org")).toBe("alice");
  });

  it("refuses an identity given to two people (a key belongs to one person)", () => {
    const file = parseSignerLogins(`alice ${SSH}\nbob ${SSH}\n`);
    expect(file.errors).toEqual([
      { line: 2, message: `${SSH} is already the identity of @alice (line 1); a key belongs to one person` },
    ]);
    // The same person twice is no conflict, and fingerprints compare case-insensitively.
    expect(parseSignerLogins(`alice ${FPR}\nALICE ${FPR.toUpperCase()}\n`).errors).toEqual([]);
    expect(parseSignerLogins(`alice ${FPR}\nbob ${FPR.toUpperCase()}\n`).errors).toHaveLength(1);
  });

  it.each([
    ["no identity", "alice\n", "@alice has no identity"],
    ["a bad login", "al_ice alice@example.org\n", "`al_ice` is not a GitHub login"],
    ["a login ending in a hyphen", "alice- alice@example.org\n", "is not a GitHub login"],
    ["a wildcard principal", "alice *@example.org\n", "`*@example.org` is not an OpenPGP fingerprint"],
    ["a short fingerprint", "alice C4D4E5E17B7BD233\n", "is not an OpenPGP fingerprint"],
    ["an inline comment", "alice alice@example.org #work\n", "`#work` is not"],
    ["a team", "@acme/sre sre@example.org\n", "is not a GitHub login"],
  ])("refuses %s", (_, text, message) => {
    const file = parseSignerLogins(text);
    expect(file.errors).toHaveLength(1);
    expect(file.errors[0]?.message).toContain(message);
    expect(file.errors[0]?.line).toBe(1);
  });

  it("canonical identities: fingerprints upper-cased, emails lower-cased, SSH fingerprints as written", () => {
    expect(canonicalIdentity(FPR)).toEqual({ kind: "openpgp", id: FPR.toUpperCase() });
    expect(canonicalIdentity("A".repeat(64))).toEqual({ kind: "openpgp", id: "A".repeat(64) });
    expect(canonicalIdentity(SSH)).toEqual({ kind: "ssh", id: SSH });
    expect(canonicalIdentity("Bob@Example.ORG")).toEqual({ kind: "email", id: "bob@example.org" });
    expect(canonicalIdentity("sha256:odjOAdfZb04bOu7vFvPjBnbe7syYw3DCSlXMxc+rSJs")).toBeNull();
    expect(canonicalIdentity("bob")).toBeNull();
  });
});

describe("parseSignerLogins: properties", () => {
  const login = fc.stringMatching(/^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){0,10}$/);
  const email = fc
    .tuple(fc.stringMatching(/^[a-z0-9._+-]{1,8}$/), fc.stringMatching(/^[a-z0-9.-]{1,8}$/))
    .map(([local, domain]) => `${local}@${domain}`);
  const openpgp = fc.stringMatching(/^[0-9A-F]{40}$/);
  const ssh = fc.stringMatching(/^[A-Za-z0-9+/]{43}$/).map((b) => `SHA256:${b}`);
  const identity = fc.oneof(email, openpgp, ssh);
  /** A mapping where every identity belongs to exactly one login. */
  const mapping = fc
    .uniqueArray(identity, { minLength: 1, maxLength: 12 })
    .chain((ids) =>
      fc
        .array(login, { minLength: ids.length, maxLength: ids.length })
        .map((owners) => ids.map((id, i) => [id, owners[i] as string] as const)),
    );

  /** Renders a mapping as a file: one line per identity, random spacing, comments, blank lines, optional @. */
  const rendered = mapping.chain((pairs) =>
    fc
      .tuple(
        fc.array(fc.constantFrom(" ", "\t", "  ", " \t"), {
          minLength: pairs.length,
          maxLength: pairs.length,
        }),
        fc.array(fc.boolean(), { minLength: pairs.length, maxLength: pairs.length }),
        fc.array(fc.constantFrom("", "# note", "   "), { minLength: pairs.length, maxLength: pairs.length }),
      )
      .map(([gaps, ats, extras]) => ({
        pairs,
        text: pairs
          .map(([id, who], i) => `${extras[i]}\n${ats[i] === true ? "@" : ""}${who}${gaps[i]}${id}`)
          .join("\n"),
      })),
  );

  it("round-trip: a rendered mapping parses without errors to the same mapping", () => {
    fc.assert(
      fc.property(rendered, ({ pairs, text }) => {
        const file = parseSignerLogins(text);
        expect(file.errors).toEqual([]);
        const expected = new Map(pairs.map(([id, who]) => [canonicalIdentity(id)?.id, who]));
        expect(new Map(file.byIdentity)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("an identity given to a second login is always an error", () => {
    fc.assert(
      fc.property(rendered, login, fc.nat(), ({ pairs, text }, other, pick) => {
        const [id, who] = pairs[pick % pairs.length] as readonly [string, string];
        fc.pre(other !== who);
        const file = parseSignerLogins(`${text}\n${other} ${id}\n`);
        expect(file.errors.some((e) => e.message.includes("a key belongs to one person"))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary text, and every line it accepts is well formed", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const file = parseSignerLogins(text);
        for (const entry of file.entries) {
          expect(entry.login).toMatch(/^[a-z0-9-]{1,39}$/);
          expect(entry.identities.length).toBeGreaterThan(0);
          for (const id of entry.identities) expect(canonicalIdentity(id)?.id).toBe(id);
        }
        for (const [id, who] of file.byIdentity) {
          expect(canonicalIdentity(id)).not.toBeNull();
          expect(who).not.toBe("");
        }
      }),
      { numRuns: 500 },
    );
  });
});
