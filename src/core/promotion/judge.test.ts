import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, judgePromotion, type PromotionInput, type StagingRecord } from "./judge.js";
import { promotionRule } from "./rule.js";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-12-04T12:00:00Z");
const T1 = "a".repeat(40);
const T2 = "b".repeat(40);
const DIR = "c".repeat(40);

function record(
  sequence: number,
  tree: string,
  ageMs: number,
  extra: Partial<StagingRecord> = {},
): StagingRecord {
  return {
    sequence,
    recordCommit: String(sequence % 10).repeat(40),
    tree,
    recordedAt: NOW - ageMs,
    ...extra,
  };
}

function branches(tree: string, stagingRecords: StagingRecord[], minAgeMs = HOUR): PromotionInput {
  return { from: "staging", candidate: { kind: "tree", tree }, stagingRecords, minAgeMs, now: NOW };
}

describe("judgePromotion: environments as branches", () => {
  it("matches the newest staging record old enough that carries the tree, and says which", () => {
    const judgement = judgePromotion(
      branches(T1, [
        record(3, T1, 5 * HOUR),
        record(4, T2, 4 * HOUR),
        record(5, T1, 2 * HOUR),
        record(6, T1, 10_000),
      ]),
    );
    expect(judgement).toMatchObject({ ok: true, promoted: true, matched: { sequence: 5 }, ageMs: 2 * HOUR });
    expect(judgement.text).toBe(
      "The tree equals the one staging record #5 (5555555) carries, recorded 2h ago (min_age 1h).",
    );
    const rule = promotionRule(judgement, "staging", HOUR);
    expect(rule.result).toMatchObject({ id: "promotion", status: "pass" });
    expect(rule.promotedFrom).toEqual({ environment: "staging", sequence: 5, recordCommit: "5".repeat(40) });
  });

  it("too young: says by how much, and the fix says how long to wait", () => {
    const judgement = judgePromotion(branches(T1, [record(7, T1, 20 * 60_000), record(8, T2, 3 * HOUR)]));
    expect(judgement).toMatchObject({
      ok: false,
      reasons: [{ kind: "too-young", record: { sequence: 7 }, shortByMs: 40 * 60_000 }],
    });
    expect(judgement.text).toBe(
      "staging record #7 (7777777) carries the tree but was recorded 20m ago, 40m short of min_age.",
    );
    const rule = promotionRule(judgement, "staging", HOUR);
    expect(rule.result.status).toBe("fail");
    expect(rule.result.fix[0]).toMatch(/^Wait 40m and re-run the check/);
    expect(rule.promotedFrom).toBeNull();
  });

  it("no tree match, and no records at all", () => {
    expect(judgePromotion(branches(T1, [record(1, T2, 9 * HOUR)]))).toMatchObject({
      ok: false,
      reasons: [{ kind: "no-tree-match", records: 1 }],
      text: "None of the 1 staging record(s) read carries the tree: promote a tree staging has recorded.",
    });
    expect(judgePromotion(branches(T1, []))).toMatchObject({ ok: false, reasons: [{ kind: "no-records" }] });
  });

  it("attack: a break-glass staging record is no promotion source (it skipped staging's rules)", () => {
    const judgement = judgePromotion(branches(T1, [record(2, T1, 9 * HOUR, { breakGlass: true })]));
    expect(judgement).toMatchObject({
      ok: false,
      reasons: [{ kind: "break-glass-source", record: { sequence: 2 } }],
    });
    // An older normal record of the same tree still qualifies.
    expect(
      judgePromotion(branches(T1, [record(1, T1, 10 * HOUR), record(2, T1, 9 * HOUR, { breakGlass: true })])),
    ).toMatchObject({ ok: true, matched: { sequence: 1 } });
  });

  it("attack: a staging record dated in the future is never old enough", () => {
    const judgement = judgePromotion(branches(T1, [record(3, T1, -2 * HOUR)]));
    expect(judgement.ok).toBe(false);
    expect(judgement.text).toMatch(/issued 2h in the future/);
    expect(judgePromotion(branches(T1, [{ ...record(3, T1, 0), recordedAt: Number.NaN }])).ok).toBe(false);
  });

  it("invalid input fails closed as an error", () => {
    expect(judgePromotion(branches("not-a-tree", [record(1, T1, 9 * HOUR)])).ok).toBe(false);
    const rule = promotionRule(
      judgePromotion(branches(T1, [record(1, T1, 9 * HOUR)], Number.NaN)),
      "staging",
      HOUR,
    );
    expect(rule.result.status).toBe("error");
  });
});

describe("judgePromotion: environments as directories of one branch", () => {
  const dir = (tree: string | null, baseTree: string | null, records: StagingRecord[]): PromotionInput => ({
    from: "staging",
    candidate: { kind: "directory", path: "envs/production", tree, baseTree, fromPath: "envs/staging" },
    stagingRecords: records,
    minAgeMs: HOUR,
    now: NOW,
  });

  it("the promoted directory's tree must equal the source directory's tree in a staging record", () => {
    const judgement = judgePromotion(
      dir(DIR, T2, [
        record(4, T1, 3 * HOUR, { dirTrees: { "envs/staging": DIR } }),
        record(5, T2, 2 * HOUR, { dirTrees: { "envs/staging": T2 } }),
      ]),
    );
    expect(judgement).toMatchObject({ ok: true, promoted: true, matched: { sequence: 4 } });
    expect(judgement.text).toMatch(/^Envs\/production\/'s tree equals the one staging record #4/);
  });

  it("a PR that leaves the promoted directory as it is promotes nothing and passes", () => {
    const judgement = judgePromotion(dir(DIR, DIR, []));
    expect(judgement).toMatchObject({ ok: true, promoted: false });
    expect(promotionRule(judgement, "staging", HOUR).promotedFrom).toBeNull();
  });

  it("removing the promoted directory, or a record whose directory tree was not read, never matches", () => {
    expect(
      judgePromotion(dir(null, DIR, [record(1, T1, 9 * HOUR, { dirTrees: { "envs/staging": null } })])),
    ).toMatchObject({
      ok: false,
      reasons: [{ kind: "directory-removed" }],
    });
    const notRead = judgePromotion(dir(DIR, null, [record(1, DIR, 9 * HOUR)]));
    expect(notRead).toMatchObject({
      ok: false,
      reasons: [{ kind: "directory-not-read", records: 1 }, { kind: "no-tree-match" }],
    });
    // Not read is an error (the facts are incomplete), not a plain failure.
    expect(promotionRule(notRead, "staging", HOUR).result.status).toBe("error");
  });
});

describe("judgePromotion: properties", () => {
  const hex = fc.stringMatching(/^[0-9a-f]{40}$/);
  const records = fc.array(
    fc.record({
      sequence: fc.integer({ min: 1, max: 1000 }),
      tree: hex,
      ageMs: fc.integer({ min: -10 * HOUR, max: 100 * HOUR }),
      breakGlass: fc.boolean(),
    }),
    { maxLength: 12 },
  );
  const toRecords = (list: { sequence: number; tree: string; ageMs: number; breakGlass: boolean }[]) =>
    list.map((r) => record(r.sequence, r.tree, r.ageMs, { breakGlass: r.breakGlass }));

  it("a record younger than min_age never matches, nor a break-glass one", () => {
    fc.assert(
      fc.property(
        records,
        fc.integer({ min: 0, max: 50 * HOUR }),
        fc.nat({ max: 11 }),
        (list, minAgeMs, pick) => {
          const staging = toRecords(list);
          const tree = staging[pick % Math.max(1, staging.length)]?.tree ?? T1;
          const judgement = judgePromotion(branches(tree, staging, minAgeMs));
          if (judgement.ok && judgement.promoted) {
            expect(NOW - judgement.matched.recordedAt).toBeGreaterThanOrEqual(minAgeMs);
            expect(judgement.matched.breakGlass).toBe(false);
            expect(judgement.matched.tree).toBe(tree);
          }
        },
      ),
    );
  });

  it("the newest qualifying record is chosen, and one exists exactly when the judgement passes", () => {
    fc.assert(
      fc.property(
        records,
        fc.integer({ min: 0, max: 50 * HOUR }),
        fc.nat({ max: 11 }),
        (list, minAgeMs, pick) => {
          const staging = toRecords(list);
          const tree = staging[pick % Math.max(1, staging.length)]?.tree ?? T1;
          const qualifying = staging.filter(
            (r) => r.tree === tree && !r.breakGlass && NOW - r.recordedAt >= minAgeMs,
          );
          const judgement = judgePromotion(branches(tree, staging, minAgeMs));
          expect(judgement.ok).toBe(qualifying.length > 0);
          if (judgement.ok && judgement.promoted) {
            expect(judgement.matched.sequence).toBe(Math.max(...qualifying.map((r) => r.sequence)));
          }
        },
      ),
    );
  });

  it("a tree that differs in one hex digit never matches", () => {
    fc.assert(
      fc.property(hex, fc.nat({ max: 39 }), fc.integer({ min: 1, max: 15 }), (tree, at, delta) => {
        const digit = (parseInt(tree[at] ?? "0", 16) + delta) % 16;
        const other = tree.slice(0, at) + digit.toString(16) + tree.slice(at + 1);
        const judgement = judgePromotion(branches(other, [record(1, tree, 100 * HOUR)], 0));
        expect(judgement.ok).toBe(false);
        const inDir = judgePromotion({
          from: "staging",
          candidate: {
            kind: "directory",
            path: "envs/production",
            tree: other,
            baseTree: null,
            fromPath: "envs/staging",
          },
          stagingRecords: [record(1, T1, 100 * HOUR, { dirTrees: { "envs/staging": tree } })],
          minAgeMs: 0,
          now: NOW,
        });
        expect(inDir.ok).toBe(false);
      }),
    );
  });
});

describe("formatDuration", () => {
  it("shows the two largest units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(HOUR)).toBe("1h");
    expect(formatDuration(HOUR + 5 * 60_000 + 7_000)).toBe("1h 5m");
    expect(formatDuration(3 * 86_400_000 + 2 * HOUR)).toBe("3d 2h");
  });
});
