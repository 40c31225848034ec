import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  commitPayload,
  gitDateToIso,
  isoToGitDate,
  parseCommit,
  signedCommitText,
  type CommitInput,
} from "./objects.js";

const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
const identPart = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => !/[<>\n\0]/.test(s) && s.trim() === s && s !== "");
const ident = fc.record({
  name: identPart,
  email: fc.stringMatching(/^[a-z0-9.+-]{1,10}@[a-z0-9-]{1,10}\.test$/),
  seconds: fc.integer({ min: 0, max: 4_000_000_000 }),
  tz: fc.constantFrom("+0000", "+0200", "-0530", "+1400", "-1200"),
});
const commitInput: fc.Arbitrary<CommitInput> = fc.record({
  tree: sha,
  parents: fc.array(sha, { maxLength: 3 }),
  author: ident,
  committer: ident,
  message: fc.string({ maxLength: 200 }).filter((m) => !m.includes("\0")),
});
// An armored signature's lines (including the empty line after the header) as git would fold them.
const signature = fc
  .array(fc.stringMatching(/^[A-Za-z0-9+/=]{0,64}$/), { minLength: 1, maxLength: 6 })
  .map((lines) => `-----BEGIN PGP SIGNATURE-----\n\n${lines.join("\n")}\n-----END PGP SIGNATURE-----\n`);

describe("commit objects", () => {
  it("parse(write(x)) round-trips, and the signed payload is exactly the unsigned text", () => {
    fc.assert(
      fc.property(commitInput, signature, (input, sig) => {
        const parsed = parseCommit(signedCommitText(input, sig));
        expect(parsed.tree).toBe(input.tree);
        expect(parsed.parents).toEqual(input.parents);
        expect(parsed.author).toEqual(input.author);
        expect(parsed.committer).toEqual(input.committer);
        expect(parsed.message).toBe(input.message);
        expect(parsed.signature).toBe(sig);
        expect(parsed.payload).toBe(commitPayload(input));
        const unsigned = parseCommit(commitPayload(input));
        expect(unsigned.signature).toBeNull();
        expect(unsigned.payload).toBe(commitPayload(input));
      }),
    );
  });

  it("git stores our commit text byte for byte and agrees on the parsed fields (differential)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-objects-"));
    const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
    try {
      execFileSync("git", ["init", "-q", "--bare", dir], { env });
      const emptyTree = execFileSync("git", ["hash-object", "-t", "tree", "-w", "--stdin"], {
        cwd: dir,
        env,
        input: "",
      })
        .toString()
        .trim();
      fc.assert(
        fc.property(commitInput, signature, (input, sig) => {
          const text = signedCommitText({ ...input, tree: emptyTree, parents: [] }, sig);
          const oid = execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
            cwd: dir,
            env,
            input: text,
          })
            .toString()
            .trim();
          expect(execFileSync("git", ["cat-file", "commit", oid], { cwd: dir, env }).toString()).toBe(text);
          const author = execFileSync("git", ["log", "-1", "--format=%an|%ae|%at", oid], { cwd: dir, env })
            .toString()
            .trim();
          expect(author).toBe(`${input.author.name}|${input.author.email}|${input.author.seconds}`);
        }),
        { numRuns: 25 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ISO 8601 dates convert to git's seconds and offset, and back to UTC", () => {
    expect(isoToGitDate("2024-05-01T12:00:00+02:00")).toEqual({ seconds: 1714557600, tz: "+0200" });
    expect(isoToGitDate("2024-05-01T10:00:00Z")).toEqual({ seconds: 1714557600, tz: "+0000" });
    expect(isoToGitDate("yesterday")).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), (seconds) => {
        expect(isoToGitDate(gitDateToIso(seconds))).toEqual({ seconds, tz: "+0000" });
      }),
    );
  });
});
