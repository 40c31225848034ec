/**
 * Refresh records and the signature-time rule (docs/architecture.md, "Record contract"), pure:
 * the builder, what the verifier makes of a refresh, the attacks on the refresh marker, the clock
 * contract of recordIssuedAt, and records made before these rules, which must keep verifying.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildRecordCommit, insertGpgsig } from "../../src/record/commit.js";
import { RecordVerificationError, type RecordRefusalCode } from "../../src/record/errors.js";
import {
  formatIssuedAt,
  parseRecordMessage,
  refreshSummary,
  type RecordFields,
} from "../../src/record/format.js";
import { commitSha } from "../../src/record/raw-commit.js";
import { buildRefreshRecord } from "../../src/record/refresh.js";
import { signCommitPayload, signRecord, type SignedRecordCommit } from "../../src/record/sign.js";
import { CLOCK_SKEW_MS, ISSUE_BACKDATE_MS, recordIssuedAt } from "../../src/record/time.js";
import { verifyRecord, type RecordVerificationContext } from "../../src/record/verify.js";
import { fieldsFor, makeKey, type TestKey } from "./helpers.js";

const SOURCE = { commit: "1".repeat(40), tree: "2".repeat(40) };
const OTHER_SOURCE = { commit: "3".repeat(40), tree: "4".repeat(40) };
const identity = { name: "pullgate[bot]", email: "bot@example.com" };
const now = new Date("2026-11-22T02:00:00Z");
const at = (offsetMs: number) => formatIssuedAt(new Date(now.getTime() + offsetMs));

async function refusal(promise: Promise<unknown>): Promise<RecordRefusalCode | "accepted"> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (error instanceof RecordVerificationError) return error.code;
    throw error;
  }
}

describe("refresh records", () => {
  let key: TestKey;
  let ctx: RecordVerificationContext;
  let first: SignedRecordCommit;
  let firstFields: RecordFields;
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
    firstFields = fieldsFor(key, SOURCE, 1, { issuedAt: at(-86_400_000) });
    first = await signRecord({ fields: firstFields, previousRecord: null, identity }, key.signingKey);
  });

  const inputFor = (record: SignedRecordCommit, previous: SignedRecordCommit | null) => ({
    recordCommit: record.sha,
    recordRaw: record.signedRaw,
    previousRecordRaw: previous?.signedRaw ?? null,
    sourceCommitTree: record.tree,
    descendsFromLastAccepted: true,
  });

  it("re-issues the previous record: same source and approval, sequence + 1, new time, parents [previous, source]", async () => {
    const input = buildRefreshRecord({
      previous: { sha: first.sha, fields: firstFields },
      issuedAt: at(0),
      key: key.fingerprint,
      identity,
    });
    expect(input.fields).toEqual({ ...firstFields, sequence: 2, issuedAt: at(0) });
    const refresh = await signRecord(input, key.signingKey);
    expect(refresh.parents).toEqual([first.sha, SOURCE.commit]);
    expect(refresh.tree).toBe(SOURCE.tree);
    // The marker is in the body: the trailers are exactly a version-1 record's (old agents accept it).
    expect(refresh.message).toContain(`\n\n${refreshSummary(1)}\n\n`);
    expect(refresh.message).toContain("Pullgate-Record: 1\n");
    expect(parseRecordMessage(refresh.message)).toMatchObject({ refreshOf: 1, errors: [] });

    const verified = await verifyRecord(inputFor(refresh, first), {
      ...ctx,
      lastAccepted: { sequence: 1, recordCommit: first.sha },
    });
    expect(verified).toMatchObject({ refresh: true, unchanged: false, fields: { sequence: 2 } });
    // A landing record is not a refresh.
    expect((await verifyRecord(inputFor(first, null), ctx)).refresh).toBe(false);
  });

  it("refuses to build a refresh older than what it refreshes, or from bad fields", () => {
    const previous = { sha: first.sha, fields: firstFields };
    expect(() =>
      buildRefreshRecord({ previous, issuedAt: at(-2 * 86_400_000), key: key.fingerprint, identity }),
    ).toThrow(/before the previous/);
    expect(() =>
      buildRefreshRecord({
        previous: { ...previous, sha: "HEAD" },
        issuedAt: at(0),
        key: key.fingerprint,
        identity,
      }),
    ).toThrow(/40-hex/);
    expect(() =>
      buildRefreshRecord({
        previous: { ...previous, fields: { ...firstFields, sequence: 0 } },
        issuedAt: at(0),
        key: key.fingerprint,
        identity,
      }),
    ).toThrow(/previous record fields/);
    // The formatter refuses a refresh paragraph that does not name the previous sequence.
    expect(() =>
      buildRecordCommit({
        fields: fieldsFor(key, SOURCE, 3, { issuedAt: at(0) }),
        previousRecord: first.sha,
        identity,
        format: { summary: refreshSummary(1) },
      }),
    ).toThrow(/refreshSummary\(2\)/);
  });

  it("attack: a record whose body says 'refresh, nothing new' over a NEW source is refused", async () => {
    // Signed by the app's key (say, a bug or a misused signing service): agents that believed the
    // marker would skip a deployment an auditor reads as a no-op.
    const lying = await signRecord(
      {
        fields: fieldsFor(key, OTHER_SOURCE, 2, { issuedAt: at(0) }),
        previousRecord: first.sha,
        identity,
        format: { summary: refreshSummary(1) },
      },
      key.signingKey,
    );
    expect(await refusal(verifyRecord(inputFor(lying, first), ctx))).toBe("PARENTS_INVALID");
  });

  it("a near-miss refresh paragraph is malformed, and the marker counts only as the first paragraph", async () => {
    const base = await signRecord(
      { fields: fieldsFor(key, SOURCE, 2, { issuedAt: at(0) }), previousRecord: first.sha, identity },
      key.signingKey,
    );
    const trailers = base.message.slice(base.message.lastIndexOf("\n\nPullgate-Record: ") + 2);
    const subject = base.message.split("\n")[0] ?? "";
    const withBody = (body: string) => `${subject}\n\n${body}\n\n${trailers}`;
    expect(parseRecordMessage(withBody(refreshSummary(1))).refreshOf).toBe(1);
    expect(parseRecordMessage(withBody(refreshSummary(7))).errors.join()).toMatch(/refresh paragraph/);
    expect(parseRecordMessage(withBody(refreshSummary(1) + " Or not.")).errors.join()).toMatch(
      /refresh paragraph/,
    );
    // Later in the body (e.g. quoted by the decision block from GitHub data): just text.
    const quoted = parseRecordMessage(withBody(`Pull request #12 was merged.\n\n${refreshSummary(1)}`));
    expect(quoted).toMatchObject({ refreshOf: null, errors: [] });
  });

  it("a record naming its previous record's source is a refresh even without the paragraph", async () => {
    const same = await signRecord(
      { fields: fieldsFor(key, SOURCE, 2, { issuedAt: at(0) }), previousRecord: first.sha, identity },
      key.signingKey,
    );
    expect((await verifyRecord(inputFor(same, first), ctx)).refresh).toBe(true);
  });
});

describe("the signature's creation time must match Pullgate-Issued-At", () => {
  let key: TestKey;
  let ctx: RecordVerificationContext;
  beforeAll(async () => {
    key = await makeKey();
    ctx = {
      keyring: [key.publicKey],
      repository: "acme/deploy",
      environment: "production",
      lastAccepted: null,
      now,
      maxAgeMs: 86_400_000,
    };
  });

  async function signedAt(issuedOffset: number, signatureOffset: number) {
    const unsigned = buildRecordCommit({
      fields: fieldsFor(key, SOURCE, 1, { issuedAt: at(issuedOffset) }),
      previousRecord: null,
      identity,
    });
    const raw = insertGpgsig(
      unsigned.raw,
      await signCommitPayload(unsigned.raw, key.signingKey, new Date(now.getTime() + signatureOffset)),
    );
    return verifyRecord(
      {
        recordCommit: commitSha(raw),
        recordRaw: raw,
        previousRecordRaw: null,
        sourceCommitTree: SOURCE.tree,
        descendsFromLastAccepted: null,
      },
      ctx,
    );
  }

  it("accepts up to the stated skew either way, refuses beyond", async () => {
    expect(CLOCK_SKEW_MS).toBe(300_000);
    expect(await refusal(signedAt(-60_000, -60_000))).toBe("accepted");
    expect(await refusal(signedAt(-60_000, -60_000 - CLOCK_SKEW_MS))).toBe("accepted");
    expect(await refusal(signedAt(-60_000 - CLOCK_SKEW_MS, -60_000))).toBe("accepted");
    expect(await refusal(signedAt(-60_000, -61_000 - CLOCK_SKEW_MS))).toBe("SIGNATURE_TIME_MISMATCH");
  });

  it("attack: a record pre-signed two days ago with a future Issued-At cannot outlive --max-age", async () => {
    // Someone who could submit payloads to the app's signing service (which stamps its own clock)
    // for a moment has records signed that claim a later Issued-At, to serve them as "fresh"
    // later: the signature's own time gives them away. (A holder of the raw key can choose any
    // signature time; this check is not about that case.)
    expect(await refusal(signedAt(-60_000, -2 * 86_400_000))).toBe("SIGNATURE_TIME_MISMATCH");
    // The same record told honestly is simply too old.
    expect(await refusal(signedAt(-2 * 86_400_000, -2 * 86_400_000))).toBe("EXPIRED");
  });
});

describe("recordIssuedAt: the clock contract", () => {
  it("dates records ISSUE_BACKDATE_MS before the app's clock, in whole seconds", () => {
    expect(ISSUE_BACKDATE_MS).toBe(CLOCK_SKEW_MS);
    expect(recordIssuedAt(new Date("2026-11-22T02:00:00.900Z"))).toBe("2026-11-22T01:55:00Z");
  });

  it("never before the signing key's creation or the previous record, never after now", async () => {
    const key = await makeKey();
    const keyCreated = key.signingKey.getCreationTime().getTime();
    expect(recordIssuedAt(new Date(keyCreated + 1000), { signingKey: key.signingKey })).toBe(
      formatIssuedAt(new Date(Math.ceil(keyCreated / 1000) * 1000)),
    );
    expect(recordIssuedAt(now, { notBefore: "2026-11-22T01:59:00Z" })).toBe("2026-11-22T01:59:00Z");
    expect(recordIssuedAt(now, { notBefore: "2026-11-22T03:00:00Z" })).toBe("2026-11-22T02:00:00Z");
  });

  it("a record signed with it verifies for a cluster whose clock is up to the skew behind the app", async () => {
    const key = await makeKey();
    const issuedAt = recordIssuedAt(now, { signingKey: key.signingKey });
    const signed = await signRecord(
      { fields: fieldsFor(key, SOURCE, 1, { issuedAt }), previousRecord: null, identity },
      key.signingKey,
    );
    const verified = await verifyRecord(
      {
        recordCommit: signed.sha,
        recordRaw: signed.signedRaw,
        previousRecordRaw: null,
        sourceCommitTree: SOURCE.tree,
        descendsFromLastAccepted: null,
      },
      {
        keyring: [key.publicKey],
        repository: "acme/deploy",
        environment: "production",
        lastAccepted: null,
        // The cluster's clock is exactly ISSUE_BACKDATE_MS behind the app's: it sees "now".
        now: new Date(now.getTime() - ISSUE_BACKDATE_MS),
        maxAgeMs: null,
        // Even a verifier that tolerates no skew at all (go-crypto's rule) accepts it.
        maxClockSkewMs: 0,
      },
    );
    expect(verified.signedAt.toISOString()).toBe(issuedAt.replace("Z", ".000Z"));
  });
});

describe("records made before these rules keep verifying", () => {
  const legacy = JSON.parse(readFileSync(join(__dirname, "fixtures", "legacy-records.json"), "utf8")) as {
    publicKey: string;
    records: { sha: string; raw: string }[];
  };

  it("verifies the legacy chain #1 -> #2 made by the previous code", async () => {
    const [one, two] = legacy.records;
    if (one === undefined || two === undefined) throw new Error("fixture has two records");
    expect(commitSha(two.raw)).toBe(two.sha);
    const verified = await verifyRecord(
      {
        recordCommit: two.sha,
        recordRaw: two.raw,
        previousRecordRaw: one.raw,
        sourceCommitTree: "d".repeat(40),
        descendsFromLastAccepted: true,
      },
      {
        keyring: [legacy.publicKey],
        repository: "acme/deploy",
        environment: "production",
        lastAccepted: { sequence: 1, recordCommit: one.sha },
        now: new Date("2026-11-02T10:00:00Z"),
        maxAgeMs: 86_400_000,
      },
    );
    expect(verified).toMatchObject({ refresh: false, unchanged: false, fields: { sequence: 2 } });
  });
});
