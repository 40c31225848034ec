/**
 * Promotion and break-glass marks on records (docs/architecture.md, "Record contract"): records
 * built before the marks keep their exact bytes and parse as before; marked records round-trip, are
 * covered by the signature, are read only at their place and in their one spelling, survive a
 * refresh, and `refuseBreakGlass` refuses the record to deploy (never an intermediate one).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildRecordCommit } from "../../src/record/commit.js";
import { verifyRecordsBetween, type RecordObjects } from "../../src/record/chain.js";
import { RecordVerificationError, type RecordRefusalCode } from "../../src/record/errors.js";
import {
  breakGlassParagraph,
  formatIssuedAt,
  formatRecordMessage,
  parseRecordMessage,
  promotionParagraph,
  refreshSummary,
  type RecordFields,
} from "../../src/record/format.js";
import { buildRefreshRecord } from "../../src/record/refresh.js";
import { commitSha } from "../../src/record/raw-commit.js";
import { signRecord } from "../../src/record/sign.js";
import { verifyRecord, type RecordVerificationContext } from "../../src/record/verify.js";
import { fieldsFor, makeKey, type TestKey } from "./helpers.js";

const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures", "pre-marks-records.json"), "utf8")) as {
  landing: { fields: RecordFields; raw: string };
  refresh: { raw: string };
};

const identity = { name: "pullgate[bot]", email: "pullgate@example.com" };
const SOURCE = { commit: "1".repeat(40), tree: "2".repeat(40) };
const STAGING_RECORD = "5".repeat(40);
const glass = { approvedBy: ["carol", "dave"] };
const promoted = { environment: "staging", sequence: 7, recordCommit: STAGING_RECORD };

function messageOf(raw: string): string {
  return raw.slice(raw.indexOf("\n\n") + 2);
}

async function codeOf(promise: Promise<unknown>): Promise<RecordRefusalCode | null> {
  return promise.then(
    () => null,
    (error: unknown) => {
      if (error instanceof RecordVerificationError) return error.code;
      throw error;
    },
  );
}

describe("records made before the marks", () => {
  it("the builder still produces their exact bytes, and the parser reads them as before", () => {
    const { fields, raw } = fixture.landing;
    const rebuilt = buildRecordCommit({
      fields,
      previousRecord: "3".repeat(40),
      identity,
      format: {
        summary: "Pull request #12 was approved by @alice, @bob and merged as 1111111.",
        decision: { rules: [{ name: "approvals", ok: true }], title: "Break-glass: not a mark" },
      },
    });
    expect(rebuilt.raw).toBe(raw);
    const parsed = parseRecordMessage(messageOf(raw));
    expect(parsed.errors).toEqual([]);
    // No mark keys at all: the parsed fields are exactly the trailers (text quoted in the decision
    // block that looks like a mark is not one).
    expect(parsed.fields).toEqual(fields);
    expect(Object.keys(parsed.fields ?? {})).not.toContain("breakGlass");
    expect(Object.keys(parsed.fields ?? {})).not.toContain("promotedFrom");
    expect(parsed.refreshOf).toBeNull();

    const refresh = buildRecordCommit(
      buildRefreshRecord({
        previous: { sha: "4".repeat(40), fields },
        issuedAt: "2026-11-23T02:00:00Z",
        key: fields.key,
        identity,
      }),
    );
    expect(refresh.raw).toBe(fixture.refresh.raw);
    expect(parseRecordMessage(messageOf(fixture.refresh.raw))).toMatchObject({ refreshOf: 3, errors: [] });
  });
});

describe("marked records: format and parse", () => {
  const base: RecordFields = { ...fixture.landing.fields };

  it("round-trip: the marks come first in the body, in their fixed spelling, and parse back", () => {
    const fields: RecordFields = { ...base, breakGlass: glass, promotedFrom: promoted };
    const message = formatRecordMessage(fields, { summary: "Merged.", decision: { ok: true } });
    const body = message.split("\n\n");
    expect(body[1]).toBe(breakGlassParagraph(12, glass));
    expect(body[1]).toBe(
      "Break-glass: pull request #12 passed without the rules it did not satisfy, on the approvals of policy admins @carol, @dave.",
    );
    expect(body[2]).toBe(promotionParagraph(promoted));
    expect(body[3]).toBe("Merged.");
    const parsed = parseRecordMessage(message);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fields).toEqual(fields);
  });

  it("the formatter refuses a mark no admin pair could have made, and free text that looks like a mark", () => {
    expect(() => formatRecordMessage({ ...base, breakGlass: { approvedBy: ["carol"] } })).toThrow(
      /at least two/,
    );
    expect(() => formatRecordMessage({ ...base, breakGlass: { approvedBy: ["carol", "Carol"] } })).toThrow(
      /listed twice/,
    );
    expect(() =>
      formatRecordMessage({ ...base, promotedFrom: { ...promoted, recordCommit: "abc" } }),
    ).toThrow(/40-hex/);
    expect(() =>
      formatRecordMessage(base, { summary: `Merged.\n\n${breakGlassParagraph(12, glass)}` }),
    ).toThrow(/must not contain/);
    expect(() => formatRecordMessage(base, { summary: promotionParagraph(promoted) })).toThrow(
      /must not contain/,
    );
  });

  const marked = formatRecordMessage({ ...base, breakGlass: glass, promotedFrom: promoted });
  const bg = breakGlassParagraph(12, glass);
  const pr = promotionParagraph(promoted);
  const cases: [string, string, RegExp][] = [
    [
      "a mark after free text (not at its place)",
      marked.replace(`${bg}\n\n${pr}`, `Text.\n\n${bg}\n\n${pr}`),
      /out of its place/,
    ],
    ["promotion before break-glass", marked.replace(`${bg}\n\n${pr}`, `${pr}\n\n${bg}`), /out of its place/],
    ["a mark twice", marked.replace(bg, `${bg}\n\n${bg}`), /out of its place/],
    [
      "a near-miss spelling (two spaces)",
      marked.replace("policy admins @carol", "policy admins  @carol"),
      /canonical/,
    ],
    [
      "a break-glass paragraph naming another PR",
      marked.replace("pull request #12 passed", "pull request #13 passed"),
      /names PR #13/,
    ],
    ["one admin only", marked.replace("@carol, @dave", "@carol"), /at least two/],
    ["an admin twice", marked.replace("@carol, @dave", "@carol, @carol"), /listed twice/],
    [
      "an uppercase record SHA",
      marked.replace(STAGING_RECORD, STAGING_RECORD.toUpperCase().replace(/5/g, "A")),
      /canonical/,
    ],
  ];
  for (const [name, message, error] of cases) {
    it(`the parser refuses ${name}`, () => {
      const parsed = parseRecordMessage(message);
      expect(parsed.fields).toBeNull();
      expect(parsed.errors.join("; ")).toMatch(error);
    });
  }

  it("a refresh of a marked record keeps the marks after the refresh paragraph", () => {
    const previous = { ...base, breakGlass: glass, promotedFrom: promoted };
    const input = buildRefreshRecord({
      previous: { sha: "4".repeat(40), fields: previous },
      issuedAt: "2026-11-23T02:00:00Z",
      key: base.key,
      identity,
    });
    const message = buildRecordCommit(input).message;
    expect(message.split("\n\n").slice(1, 4)).toEqual([refreshSummary(3), bg, pr]);
    const parsed = parseRecordMessage(message);
    expect(parsed).toMatchObject({ refreshOf: 3, errors: [] });
    expect(parsed.fields?.breakGlass).toEqual(glass);
    expect(parsed.fields?.promotedFrom).toEqual(promoted);
  });
});

describe("marked records: signature, refresh and --refuse-break-glass", () => {
  let key: TestKey;
  let ctx: RecordVerificationContext;
  const now = new Date("2026-11-22T02:00:00Z");
  beforeAll(async () => {
    key = await makeKey();
    ctx = {
      keyring: [key.publicKey],
      repository: "acme/deploy",
      environment: "production",
      lastAccepted: null,
      now,
      maxAgeMs: null,
    };
  });

  async function signed(fields: RecordFields, previous: string | null, summary?: string) {
    return signRecord(
      {
        fields,
        previousRecord: previous,
        identity,
        ...(summary === undefined ? {} : { format: { summary } }),
      },
      key.signingKey,
    );
  }
  const first = (overrides: Partial<RecordFields> = {}) =>
    fieldsFor(key, SOURCE, 1, { issuedAt: formatIssuedAt(now), ...overrides });
  const inputOf = (raw: string, previousRecordRaw: string | null = null) => ({
    recordCommit: commitSha(raw),
    recordRaw: raw,
    previousRecordRaw,
    sourceCommitTree: SOURCE.tree,
    descendsFromLastAccepted: null,
  });

  it("the marks verify, are on the verified record, and tampering one breaks the signature", async () => {
    const record = await signed(first({ breakGlass: glass, promotedFrom: promoted }), null);
    const verified = await verifyRecord(inputOf(record.signedRaw), ctx);
    expect(verified.fields.breakGlass).toEqual(glass);
    expect(verified.fields.promotedFrom).toEqual(promoted);

    const tampered = [
      // the break-glass paragraph removed: the record would pass for a normal one
      record.signedRaw.replace(`${breakGlassParagraph(11, glass)}\n\n`, ""),
      // another staging record named
      record.signedRaw.replace("record #7 (", "record #8 ("),
      // another admin named
      record.signedRaw.replace("@carol, @dave", "@carol, @erin"),
    ];
    for (const raw of tampered) {
      expect(raw).not.toBe(record.signedRaw);
      expect(await codeOf(verifyRecord(inputOf(raw), ctx))).toBe("SIGNATURE_INVALID");
    }
  });

  it("--refuse-break-glass refuses a break-glass record (BREAK_GLASS_REFUSED) and nothing else", async () => {
    const plain = await signed(first(), null);
    const marked = await signed(first({ breakGlass: glass }), null);
    const strict = { ...ctx, refuseBreakGlass: true };
    expect((await verifyRecord(inputOf(plain.signedRaw), strict)).fields.breakGlass).toBeUndefined();
    expect(await codeOf(verifyRecord(inputOf(marked.signedRaw), strict))).toBe("BREAK_GLASS_REFUSED");
    expect((await verifyRecord(inputOf(marked.signedRaw), ctx)).fields.breakGlass).toEqual(glass);
  });

  it("attack: a refresh that drops the break-glass mark is refused (PARENTS_INVALID); one that keeps it is still refused by the flag", async () => {
    const one = await signed(first({ breakGlass: glass }), null);
    const laundered = await signed(
      fieldsFor(key, SOURCE, 2, { issuedAt: formatIssuedAt(now), pullRequest: 11 }),
      one.sha,
      refreshSummary(1),
    );
    expect(await codeOf(verifyRecord(inputOf(laundered.signedRaw, one.signedRaw), ctx))).toBe(
      "PARENTS_INVALID",
    );
    const honest = await signRecord(
      buildRefreshRecord({
        previous: { sha: one.sha, fields: first({ breakGlass: glass }) },
        issuedAt: formatIssuedAt(now),
        key: key.fingerprint,
        identity,
      }),
      key.signingKey,
    );
    const verified = await verifyRecord(inputOf(honest.signedRaw, one.signedRaw), ctx);
    expect(verified).toMatchObject({ refresh: true, fields: { breakGlass: glass } });
    expect(
      await codeOf(
        verifyRecord(inputOf(honest.signedRaw, one.signedRaw), { ...ctx, refuseBreakGlass: true }),
      ),
    ).toBe("BREAK_GLASS_REFUSED");
  });

  it("a break-glass record between the last accepted one and a normal record is verified, not refused", async () => {
    const other = { commit: "6".repeat(40), tree: "7".repeat(40) };
    const one = await signed(first(), null);
    const two = await signed(
      fieldsFor(key, other, 2, { issuedAt: formatIssuedAt(now), breakGlass: glass }),
      one.sha,
    );
    const three = await signed(fieldsFor(key, SOURCE, 3, { issuedAt: formatIssuedAt(now) }), two.sha);
    const raws = new Map([one, two, three].map((r) => [r.sha, r.signedRaw]));
    const trees = new Map([
      [SOURCE.commit, SOURCE.tree],
      [other.commit, other.tree],
    ]);
    const objects: RecordObjects = {
      commit: (sha) => Promise.resolve(raws.get(sha) ?? null),
      treeOf: (sha) => Promise.resolve(trees.get(sha) ?? null),
    };
    const strict: RecordVerificationContext = {
      ...ctx,
      refuseBreakGlass: true,
      lastAccepted: { sequence: 1, recordCommit: one.sha },
    };
    const newest = await verifyRecord(
      {
        recordCommit: three.sha,
        recordRaw: three.signedRaw,
        previousRecordRaw: two.signedRaw,
        sourceCommitTree: SOURCE.tree,
        descendsFromLastAccepted: true,
      },
      strict,
    );
    expect(await verifyRecordsBetween(objects, newest, strict)).toBe(1);
  });
});
