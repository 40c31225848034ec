import { beforeAll, describe, expect, it } from "vitest";
import { generateRecordKey, loadSigningKey } from "../../record/keys.js";
import { signRecord, type SignedRecordCommit } from "../../record/sign.js";
import type { RecordFields } from "../../record/format.js";
import type { PrivateKey } from "openpgp";
import { judgeRecordCommit, type ApiCommit, type RecordJudgeContext } from "./genuine.js";
import { classifyRecordPush, decideHead } from "./head-decision.js";

const SOURCE = "a".repeat(40);
const TREE = "b".repeat(40);
const NOW = new Date("2026-12-01T10:00:00Z");

interface Key {
  key: PrivateKey;
  fingerprint: string;
  publicKey: string;
}
async function key(name: string): Promise<Key> {
  const pair = await generateRecordKey({
    name,
    email: `${name}@example.com`,
    date: new Date("2020-01-01T00:00:00Z"),
  });
  return {
    key: await loadSigningKey(pair.privateKey),
    fingerprint: pair.fingerprint,
    publicKey: pair.publicKey,
  };
}

function fields(k: Key, sequence: number, over: Partial<RecordFields> = {}): RecordFields {
  return {
    repository: "acme/gitops",
    environment: "production",
    branch: "main",
    sequence,
    sourceCommit: SOURCE,
    sourceTree: TREE,
    pullRequest: 7,
    approvedBy: ["bob"],
    policyDigest: `sha256:${"c".repeat(64)}`,
    issuedAt: "2026-12-01T09:00:00Z",
    key: k.fingerprint,
    ...over,
  };
}

async function record(k: Key, sequence: number, previous: string | null, over: Partial<RecordFields> = {}) {
  return signRecord(
    {
      fields: fields(k, sequence, over),
      previousRecord: previous,
      identity: { name: "pullgate", email: "bot@example.com" },
    },
    k.key,
  );
}

/** What GET git/commits/{sha} answers for a signed commit. */
const api = (r: SignedRecordCommit): ApiCommit => ({
  sha: r.sha,
  parents: r.parents,
  payload: r.raw,
  signature: r.signature,
});

describe("judgeRecordCommit: is a commit the app's own record", () => {
  let app: Key;
  let mallory: Key;
  let ctx: RecordJudgeContext;
  beforeAll(async () => {
    app = await key("pullgate");
    mallory = await key("mallory");
    ctx = { keyring: [app.publicKey], repository: "acme/gitops", environment: "production", now: NOW };
  });

  it("accepts a record signed by the app's key, for this repository and environment", async () => {
    const r = await record(app, 1, null);
    const judged = await judgeRecordCommit(api(r), ctx);
    expect(judged).toMatchObject({ genuine: true, sha: r.sha, fields: { sequence: 1 } });
  });

  it("refuses a well-formed record signed with someone else's key (the forged record of finding 1)", async () => {
    const r = await record(mallory, 2, "d".repeat(40));
    const judged = await judgeRecordCommit(api(r), ctx);
    expect(judged.genuine).toBe(false);
    if (!judged.genuine) expect(judged.reason).toMatch(/UNKNOWN_KEY/);
  });

  it("refuses an unsigned commit, and an API answer that does not hash to the SHA", async () => {
    const r = await record(app, 1, null);
    expect((await judgeRecordCommit({ ...api(r), signature: null }, ctx)).genuine).toBe(false);
    const tampered = { ...api(r), payload: r.raw.replace("Pullgate-Sequence: 1", "Pullgate-Sequence: 9") };
    const judged = await judgeRecordCommit(tampered, ctx);
    expect(judged.genuine).toBe(false);
    if (!judged.genuine) expect(judged.reason).toMatch(/do not hash/);
  });

  it("refuses the app's record for another environment (mix-and-match)", async () => {
    const r = await record(app, 1, null, { environment: "staging" });
    const judged = await judgeRecordCommit(api(r), ctx);
    expect(judged.genuine).toBe(false);
    if (!judged.genuine) expect(judged.reason).toMatch(/WRONG_ENVIRONMENT/);
  });
});

describe("decideHead: chain onto the head, or restore", () => {
  const rec = (sha: string, sequence: number) => ({
    sha,
    fields: { ...fields({ key: null as never, fingerprint: "F", publicKey: "" }, sequence) },
  });
  const genuine = (sha: string, sequence: number) => ({
    genuine: true as const,
    ...rec(sha, sequence),
    parents: [],
  });
  const forged = (sha: string) => ({ genuine: false as const, sha, reason: "UNKNOWN_KEY" });
  const n = rec("1".repeat(40), 5);

  it("keeps a head the log names, a genuine head newer than the log, and an absent ref with no log", () => {
    expect(decideHead("approved/p", n.sha, genuine(n.sha, 5), { kind: "found", record: n }).kind).toBe(
      "sound",
    );
    expect(
      decideHead("approved/p", "2".repeat(40), genuine("2".repeat(40), 6), { kind: "found", record: n }),
    ).toMatchObject({
      kind: "sound",
      head: { sha: "2".repeat(40), fields: { sequence: 6 } },
    });
    expect(decideHead("approved/p", null, null, { kind: "none" })).toEqual({ kind: "sound", head: null });
  });

  it("restores on the logged record after a rollback, a forged head or a deletion", () => {
    const older = "3".repeat(40);
    expect(decideHead("approved/p", older, genuine(older, 4), { kind: "found", record: n })).toMatchObject({
      kind: "tampered",
      observed: older,
      restoreOn: n,
      why: expect.stringContaining("rolled back"),
    });
    expect(
      decideHead("approved/p", "4".repeat(40), forged("4".repeat(40)), { kind: "found", record: n }),
    ).toMatchObject({
      kind: "tampered",
      restoreOn: n,
      why: expect.stringContaining("not pullgate's record (UNKNOWN_KEY)"),
    });
    expect(decideHead("approved/p", null, null, { kind: "found", record: n })).toMatchObject({
      kind: "tampered",
      observed: null,
      why: expect.stringContaining("deleted"),
    });
  });

  it("a forged head with nothing in the log to prove is unprovable: publish nothing", () => {
    expect(decideHead("approved/p", "4".repeat(40), forged("4".repeat(40)), { kind: "none" }).kind).toBe(
      "unprovable",
    );
    expect(
      decideHead("approved/p", "4".repeat(40), forged("4".repeat(40)), {
        kind: "walk-exhausted",
        commits: 100,
      }).kind,
    ).toBe("unprovable");
  });
});

describe("classifyRecordPush: the app's own compare-and-swap, or an alert", () => {
  const R = (c: string) => c.repeat(40);
  const g = (sha: string, sequence: number, parent: string | null) => ({
    genuine: true as const,
    sha,
    fields: { ...fields({ key: null as never, fingerprint: "F", publicKey: "" }, sequence) },
    parents: parent === null ? [SOURCE] : [parent, SOURCE],
  });

  it("own: record #1 on an absent ref, and record n+1 on record n", () => {
    expect(classifyRecordPush(g(R("1"), 1, null), null, null)).toEqual({ own: true });
    expect(classifyRecordPush(g(R("2"), 2, R("1")), g(R("1"), 1, null), 1)).toEqual({ own: true });
  });

  it("own: the app's restoration over a forged or rolled-back head", () => {
    const forged = { genuine: false as const, sha: R("f"), reason: "UNKNOWN_KEY" };
    expect(classifyRecordPush(g(R("3"), 3, R("2")), forged, 2)).toEqual({ own: true });
    expect(classifyRecordPush(g(R("3"), 3, R("2")), g(R("1"), 1, null), 2)).toEqual({ own: true });
  });

  it("alert: a forged record, a rollback, a side chain, a deletion", () => {
    const forged = { genuine: false as const, sha: R("f"), reason: "UNKNOWN_KEY" };
    expect(classifyRecordPush(forged, g(R("2"), 2, R("1")), null)).toMatchObject({
      own: false,
      what: expect.stringContaining("not pullgate's record"),
    });
    // Force-push back from record #3 to record #2.
    expect(classifyRecordPush(g(R("2"), 2, R("1")), g(R("3"), 3, R("2")), 1)).toMatchObject({
      own: false,
      what: expect.stringContaining("does not build on it"),
    });
    expect(classifyRecordPush(g(R("1"), 1, null), g(R("3"), 3, R("2")), null)).toMatchObject({ own: false });
    // A genuine record whose parent is not its predecessor in sequence.
    expect(classifyRecordPush(g(R("4"), 4, R("2")), g(R("2"), 2, R("1")), 2)).toMatchObject({ own: false });
    expect(classifyRecordPush(null, g(R("2"), 2, R("1")), null)).toMatchObject({
      own: false,
      what: expect.stringContaining("deleted"),
    });
  });
});
