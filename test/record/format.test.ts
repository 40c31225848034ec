import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  extractDecision,
  formatIssuedAt,
  formatRecordMessage,
  parseIssuedAt,
  parseRecordMessage,
  type RecordFields,
} from "../../src/record/format.js";

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));

const fieldsArb: fc.Arbitrary<RecordFields> = fc.record({
  repository: fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}$/),
      fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}$/),
    )
    .map(([o, n]) => `${o}/${n}`),
  environment: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/),
  branch: fc.constantFrom("main", "release/v1", "prod-1", "a/b/c"),
  sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  sourceCommit: hex(40),
  sourceTree: hex(40),
  pullRequest: fc.integer({ min: 1, max: 10_000_000 }),
  approvedBy: fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,20}(\[bot\])?$/), {
    minLength: 1,
    maxLength: 5,
  }),
  policyDigest: hex(64).map((h) => `sha256:${h}`),
  issuedAt: fc
    .date({
      min: new Date("2000-01-01T00:00:00Z"),
      max: new Date("2200-01-01T00:00:00Z"),
      noInvalidDate: true,
    })
    .map((d) => formatIssuedAt(d)),
  key: hex(40).map((h) => h.toUpperCase()),
});

const example: RecordFields = {
  repository: "acme/deploy",
  environment: "production",
  branch: "main",
  sequence: 7,
  sourceCommit: "a".repeat(40),
  sourceTree: "b".repeat(40),
  pullRequest: 42,
  approvedBy: ["alice", "bob"],
  policyDigest: "sha256:" + "c".repeat(64),
  issuedAt: "2026-11-22T02:00:00Z",
  key: "D".repeat(40),
};

describe("record message format", () => {
  it("formats the contract's subject and trailers, trailers last", () => {
    const message = formatRecordMessage(example, { decision: { rules: [] }, argocdSeal: false });
    expect(message).toBe(
      [
        `pullgate: approve production #7 (aaaaaaaaaaaa)`,
        "",
        "Decision:",
        "```json",
        '{\n  "rules": []\n}',
        "```",
        "",
        "Pullgate-Record: 1",
        "Pullgate-Repository: acme/deploy",
        "Pullgate-Environment: production",
        "Pullgate-Branch: main",
        "Pullgate-Sequence: 7",
        `Pullgate-Source-Commit: ${"a".repeat(40)}`,
        `Pullgate-Source-Tree: ${"b".repeat(40)}`,
        "Pullgate-Pull-Request: 42",
        "Pullgate-Approved-By: alice",
        "Pullgate-Approved-By: bob",
        `Pullgate-Policy-Digest: sha256:${"c".repeat(64)}`,
        "Pullgate-Issued-At: 2026-11-22T02:00:00Z",
        `Pullgate-Key: ${"D".repeat(40)}`,
        "",
      ].join("\n"),
    );
  });

  it("round-trips: parse(format(fields)) === fields, and git interpret-trailers reads every trailer", () => {
    fc.assert(
      fc.property(fieldsArb, fc.option(fc.jsonValue(), { nil: undefined }), (fields, decision) => {
        const message = formatRecordMessage(fields, decision === undefined ? {} : { decision });
        const parsed = parseRecordMessage(message);
        expect(parsed.errors).toEqual([]);
        expect(parsed.fields).toEqual(fields);
        if (decision !== undefined)
          expect(extractDecision(parsed.body)).toEqual(JSON.parse(JSON.stringify(decision)));
      }),
      { numRuns: 300 },
    );
    // Differential against git for a handful (spawning git is slow): git must see the same trailers.
    fc.assert(
      fc.property(fieldsArb, fc.jsonValue(), (fields, decision) => {
        const message = formatRecordMessage(fields, {
          decision,
          summary: "Approved after review.\n\nNot: a trailer",
        });
        const trailers = execFileSync("git", ["interpret-trailers", "--parse"], {
          input: message,
          encoding: "utf8",
        });
        const expected = message.slice(message.lastIndexOf("\n\n") + 2);
        expect(trailers).toBe(expected);
      }),
      { numRuns: 15 },
    );
  });

  it("never throws on arbitrary input, and accepts a mutated message only in canonical form", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 600 }), (text) => {
        const parsed = parseRecordMessage(text);
        expect(parsed.fields === null).toBe(parsed.errors.length > 0);
      }),
      { numRuns: 1000 },
    );
    const good = formatRecordMessage(example);
    fc.assert(
      fc.property(
        fc.nat({ max: good.length - 1 }),
        fc.string({ maxLength: 3, unit: "binary-ascii" }),
        (at, insert) => {
          const mutated = good.slice(0, at) + insert + good.slice(at + 1);
          const parsed = parseRecordMessage(mutated);
          // Either refused, or the mutation spells another record in canonical form: one message never
          // has two readings, and no non-canonical variant is accepted.
          if (parsed.fields !== null && parsed.body === "") {
            expect(formatRecordMessage(parsed.fields, { argocdSeal: parsed.argocdSeal ?? false })).toBe(
              mutated,
            );
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  const refusals: [string, (m: string) => string, RegExp][] = [
    ["a missing trailer", (m) => m.replace(/^Pullgate-Branch: .*\n/m, ""), /missing trailer Pullgate-Branch/],
    [
      "a duplicated trailer",
      (m) => m.replace(/^(Pullgate-Sequence: 7\n)/m, "$1Pullgate-Sequence: 8\n"),
      /appears 2 times/,
    ],
    ["a leading zero", (m) => m.replace("Pullgate-Sequence: 7", "Pullgate-Sequence: 07"), /leading zeros/],
    ["sequence 0", (m) => m.replace("Pullgate-Sequence: 7", "Pullgate-Sequence: 0"), /positive integer/],
    ["a short SHA", (m) => m.replace(`Source-Commit: ${"a".repeat(40)}`, "Source-Commit: aaaa"), /40-hex/],
    [
      "an uppercase SHA",
      (m) => m.replace(`Source-Tree: ${"b".repeat(40)}`, `Source-Tree: ${"B".repeat(40)}`),
      /40-hex/,
    ],
    ["a local time", (m) => m.replace("2026-11-22T02:00:00Z", "2026-11-22T02:00:00+01:00"), /RFC 3339/],
    ["an impossible date", (m) => m.replace("2026-11-22T02:00:00Z", "2026-02-30T02:00:00Z"), /RFC 3339/],
    ["no approver", (m) => m.replace(/^Pullgate-Approved-By: .*\n/gm, ""), /at least one approver/],
    [
      "an unknown trailer",
      (m) => m.replace("Pullgate-Record: 1\n", "Pullgate-Record: 1\nPullgate-Extra: x\n"),
      /unknown trailer/,
    ],
    ["a lowercase key", (m) => m.replace("Pullgate-Sequence:", "pullgate-sequence:"), /must be spelled/],
    ["a version 2 record", (m) => m.replace("Pullgate-Record: 1", "Pullgate-Record: 2"), /unsupported/],
    ["a subject for another record", (m) => m.replace("#7", "#8"), /does not match/],
    ["trailers that are not last", (m) => m + "\nfree text\n", /not "Key: value"|no trailer/],
    ["a carriage return", (m) => m.replace("\n", "\r\n"), /carriage return/],
    ["a bad digest", (m) => m.replace("sha256:c", "sha1:c"), /sha256/],
    ["a trailing space", (m) => m.replace("Pullgate-Branch: main", "Pullgate-Branch: main "), /badly spaced/],
  ];
  for (const [name, mutate, reason] of refusals) {
    it(`refuses ${name}`, () => {
      const original = formatRecordMessage(example);
      const mutated = mutate(original);
      expect(mutated).not.toBe(original);
      const parsed = parseRecordMessage(mutated);
      expect(parsed.fields).toBeNull();
      expect(parsed.errors.join("\n")).toMatch(reason);
    });
  }

  it("refuses to format non-canonical fields (the app never signs what agents refuse)", () => {
    expect(() => formatRecordMessage({ ...example, environment: "prod\nPullgate-Sequence: 9" })).toThrow(
      /Environment/,
    );
    expect(() => formatRecordMessage({ ...example, approvedBy: [] })).toThrow(/approver/);
    expect(() => formatRecordMessage({ ...example, sequence: 1.5 })).toThrow(/Sequence/);
    expect(() => formatRecordMessage(example, { summary: "text\n---\nmore" })).toThrow(/---/);
    expect(() => formatRecordMessage(example, { summary: "Pullgate-Sequence: 9" })).toThrow(/Pullgate-/);
  });

  it("reads and writes Issued-At canonically", () => {
    expect(parseIssuedAt("2026-11-22T02:00:00Z")).toBe(Date.UTC(2026, 10, 22, 2, 0, 0));
    expect(parseIssuedAt("2026-11-22T02:00:00.000Z")).toBeNull();
    expect(formatIssuedAt(new Date(Date.UTC(2026, 10, 22, 2, 0, 0, 999)))).toBe("2026-11-22T02:00:00Z");
  });
});
