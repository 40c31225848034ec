import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  commitSha,
  insertSignatureHeader,
  parseCommit,
  rebuildFromGitHub,
  splitSignedPayload,
} from "../../src/core/signatures/commit.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const PARENT = "1111111111111111111111111111111111111111";
const SIG = "-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQ\n=abcd\n-----END PGP SIGNATURE-----\n";

function signed(message = "subject\n\nbody\n", extra = ""): string {
  const indented = SIG.slice(0, -1).replace(/\n/g, "\n ") + "\n";
  return `tree ${TREE}\nparent ${PARENT}\nauthor A U Thor <a@example.com> 1700000000 +0100\ncommitter C O Mitter <c@example.com> 1700000100 -0200\n${extra}gpgsig ${indented}\n${message}`;
}

describe("commit parsing", () => {
  it("reads headers, identities, committer time, message and the signature", () => {
    const result = parseCommit(enc.encode(signed()));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const c = result.commit;
    expect(c.tree).toBe(TREE);
    expect(c.parents).toEqual([PARENT]);
    expect(c.authorEmail).toBe("a@example.com");
    expect(c.committerEmail).toBe("c@example.com");
    expect(c.committerTime).toBe(1700000100);
    expect(dec.decode(c.message)).toBe("subject\n\nbody\n");
    expect(dec.decode(c.signature!)).toBe(SIG);
    expect(c.headers.map((h) => h.name)).toEqual(["tree", "parent", "author", "committer", "gpgsig"]);
  });

  it("the payload is the object minus the gpgsig header and its continuation lines, byte for byte", () => {
    const raw = signed("subject\n\n gpgsig in the message is message\n", "mergetag object x\n type commit\n");
    const { payload } = splitSignedPayload(enc.encode(raw));
    expect(dec.decode(payload)).toBe(
      `tree ${TREE}\nparent ${PARENT}\nauthor A U Thor <a@example.com> 1700000000 +0100\ncommitter C O Mitter <c@example.com> 1700000100 -0200\nmergetag object x\n type commit\n\nsubject\n\n gpgsig in the message is message\n`,
    );
  });

  it("drops the other hash algorithm's signature header from the payload, as git does", () => {
    const raw = signed("m\n").replace("gpgsig ", "gpgsig-sha256 other\n line\ngpgsig ");
    const { payload, signature } = splitSignedPayload(enc.encode(raw));
    expect(dec.decode(payload)).not.toContain("gpgsig");
    expect(dec.decode(signature!)).toBe(SIG);
  });

  it("concatenates several signature headers like git", () => {
    const once = signed("m\n");
    const header = once.slice(once.indexOf("gpgsig "), once.indexOf("\n\n") + 1);
    const twice = once.replace(header, header + header);
    const split = splitSignedPayload(enc.encode(twice));
    expect(split.signatureHeaders).toBe(2);
    expect(dec.decode(split.signature!)).toBe(SIG + SIG);
  });

  it("refuses malformed objects with a reason", () => {
    const bad: Array<[string, RegExp]> = [
      ["", /blank line/],
      [`parent ${PARENT}\ntree ${TREE}\n\nm`, /first header is not tree/],
      [`tree xyz\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000\n\nm`, /bad tree/],
      [`tree ${TREE}\nparent nope\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000\n\nm`, /bad parent/],
      [`tree ${TREE}\ncommitter c <c> 1 +0000\n\nm`, /missing author/],
      [`tree ${TREE}\nauthor a <a> 1 +0000\n\nm`, /missing committer/],
      [
        `tree ${TREE}\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000\nauthor b <b> 1 +0000\n\nm`,
        /duplicate author/,
      ],
      [`tree ${TREE}\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000`, /not terminated/],
      [` continuation\ntree ${TREE}\n\nm`, /continuation line before any header/],
      [`tree ${TREE}\nauthor a\0 <a> 1 +0000\ncommitter c <c> 1 +0000\n\nm`, /NUL/],
    ];
    for (const [raw, reason] of bad) {
      const r = parseCommit(enc.encode(raw));
      expect(r.ok, raw).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
  });

  it("commitSha is git's object id", () => {
    const dir = mkdtempSync(join(tmpdir(), "pullgate-sha-"));
    try {
      execFileSync("git", ["init", "-q", dir]);
      const raw = signed();
      const sha = execFileSync("git", ["hash-object", "-t", "commit", "--literally", "--stdin"], {
        cwd: dir,
        input: raw,
        encoding: "utf8",
      }).trim();
      expect(commitSha(enc.encode(raw))).toBe(sha);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rebuilding a commit from GitHub's verification payload and signature", () => {
  it("inserts the signature where git puts it and proves it by the SHA", () => {
    const raw = enc.encode(signed());
    const { payload } = splitSignedPayload(raw);
    const sha = commitSha(raw);
    const rebuilt = rebuildFromGitHub(dec.decode(payload), SIG, sha);
    expect(rebuilt.ok).toBe(true);
    if (rebuilt.ok) expect(Buffer.from(rebuilt.raw).equals(Buffer.from(raw))).toBe(true);
    // GitHub may strip the final newline of the signature: still rebuilt, still proven.
    expect(rebuildFromGitHub(dec.decode(payload), SIG.trimEnd(), sha).ok).toBe(true);
  });

  it("refuses a payload that is not the commit (a lying API or a man in the middle)", () => {
    const raw = enc.encode(signed());
    const { payload } = splitSignedPayload(raw);
    const result = rebuildFromGitHub(dec.decode(payload).replace("body", "bodY"), SIG, commitSha(raw));
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/do not hash to commit/) });
  });

  it("insert then split is the identity on payload and signature", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "b", " ", "\n", "-", "=") }),
        fc.string({ unit: fc.constantFrom("x", "y", "\n", "=") }),
        (msg, sigBody) => {
          const payload = enc.encode(`tree ${TREE}\nauthor a <a> 1 +0000\ncommitter c <c> 1 +0000\n\n${msg}`);
          const sig = enc.encode(
            `-----BEGIN PGP SIGNATURE-----\n${sigBody.replace(/\n+/g, "\n").replace(/^\n/, "")}\n-----END PGP SIGNATURE-----\n`,
          );
          const raw = insertSignatureHeader(payload, sig);
          const split = splitSignedPayload(raw);
          expect(Buffer.from(split.payload).equals(Buffer.from(payload))).toBe(true);
          expect(Buffer.from(split.signature!).equals(Buffer.from(sig))).toBe(true);
        },
      ),
    );
  });
});

describe("commit parser properties", () => {
  it("never throws on arbitrary bytes, and the payload never contains the signature header", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = parseCommit(bytes);
        expect(typeof r.ok).toBe("boolean");
        const split = splitSignedPayload(bytes);
        expect(split.payload.length + (split.signature?.length ?? 0)).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on commit-shaped noise", () => {
    const line = fc.oneof(
      fc.constantFrom(
        `tree ${TREE}`,
        `parent ${PARENT}`,
        "author a <a@x> 1 +0000",
        "committer c <c@x> 2 +0000",
        "gpgsig -----BEGIN",
        " cont",
        "",
        "encoding x",
      ),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const r = parseCommit(enc.encode(lines.join("\n")));
        if (r.ok) expect(r.commit.tree).toBe(TREE);
      }),
      { numRuns: 500 },
    );
  });
});
