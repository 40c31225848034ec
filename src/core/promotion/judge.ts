/**
 * Promotion (docs/policy.md, "Promotion"; issue 18): an environment may require that what it
 * records was recorded before on another environment, at least `min_age` ago. Two layouts:
 *
 * - environments as branches: the tree a PR into production brings must equal the tree of a
 *   staging record (`candidate.kind: "tree"`);
 * - environments as directories of one branch: the promoted directory's tree in the PR's head must
 *   equal the source directory's tree in a staging record (`candidate.kind: "directory"`); a PR that
 *   leaves the promoted directory as it is on the base is not a promotion and passes this rule.
 *
 * Pure: the adapter reads the staging records (their trees, and the directory trees it needs) and
 * hands them over as plain data. Fails closed: no records, a record whose directory tree was not
 * read, an unreadable time or a tree in the future never match.
 */

/** One record of the source environment, as the adapter read it. */
export interface StagingRecord {
  sequence: number;
  recordCommit: string;
  /** The record's tree (its Pullgate-Source-Tree). */
  tree: string;
  /**
   * Trees of directories inside `tree`, by path ("envs/staging"): null when the directory does not
   * exist there. Only the directory layout needs them; a path missing here is "not read" and the
   * record cannot match on it.
   */
  dirTrees?: Readonly<Record<string, string | null>>;
  /** When the record was issued (its Pullgate-Issued-At), in ms since the epoch. */
  recordedAt: number;
  /** The record is marked break-glass: it skipped the source environment's rules. */
  breakGlass?: boolean;
}

export type PromotionCandidate =
  /** Environments as branches: the PR's whole tree. */
  | { kind: "tree"; tree: string }
  /** Environments as directories: the promoted directory in the PR's head and on its base. */
  | {
      kind: "directory";
      /** The promoted directory in this branch ("envs/production"). */
      path: string;
      /** Its tree in the PR's head; null when the PR removes it. */
      tree: string | null;
      /** Its tree on the base; null when absent there. Equal to `tree`: not a promotion. */
      baseTree: string | null;
      /** The directory whose tree in a staging record must equal `tree` ("envs/staging"). */
      fromPath: string;
    };

export interface PromotionInput {
  /** The source environment (policy `promotion.from`), for the text. */
  from: string;
  candidate: PromotionCandidate;
  /** The source environment's records, in any order (the adapter bounds how many it reads). */
  stagingRecords: readonly StagingRecord[];
  minAgeMs: number;
  /** ms since the epoch. */
  now: number;
}

export type PromotionReason =
  | { kind: "no-records" }
  | { kind: "no-tree-match"; records: number }
  | { kind: "too-young"; record: StagingRecord; ageMs: number; shortByMs: number }
  | { kind: "break-glass-source"; record: StagingRecord }
  | { kind: "directory-removed"; path: string }
  | { kind: "directory-not-read"; records: number; path: string }
  | { kind: "invalid-input"; reason: string };

export type PromotionJudgement =
  /** Matched: the newest qualifying record. */
  | { ok: true; promoted: true; matched: StagingRecord; ageMs: number; text: string }
  /** The directory layout's PR leaves the promoted directory as it is: nothing is promoted. */
  | { ok: true; promoted: false; text: string }
  | { ok: false; reasons: PromotionReason[]; text: string };

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function judgePromotion(input: PromotionInput): PromotionJudgement {
  const { candidate, from, minAgeMs, now } = input;
  const invalid = (reason: string): PromotionJudgement => ({
    ok: false,
    reasons: [{ kind: "invalid-input", reason }],
    text: `Cannot judge the promotion from ${from}: ${reason}.`,
  });
  if (!Number.isFinite(minAgeMs) || minAgeMs < 0) return invalid("min_age is not a duration");
  if (!Number.isFinite(now)) return invalid("the current time is unknown");

  let wanted: string;
  let where: string;
  let matchesRecord: (record: StagingRecord) => boolean | "not-read";
  if (candidate.kind === "tree") {
    if (!OBJECT_ID.test(candidate.tree)) return invalid(`${JSON.stringify(candidate.tree)} is not a tree id`);
    wanted = candidate.tree;
    where = "the tree";
    matchesRecord = (record) => record.tree === wanted;
  } else {
    if (candidate.tree === candidate.baseTree) {
      return {
        ok: true,
        promoted: false,
        text: `${candidate.path}/ is unchanged: nothing is promoted from ${from}.`,
      };
    }
    if (candidate.tree === null) {
      return {
        ok: false,
        reasons: [{ kind: "directory-removed", path: candidate.path }],
        text: `The pull request removes ${candidate.path}/: only a tree recorded on ${from} can be promoted there.`,
      };
    }
    if (!OBJECT_ID.test(candidate.tree)) return invalid(`${JSON.stringify(candidate.tree)} is not a tree id`);
    wanted = candidate.tree;
    const fromPath = candidate.fromPath;
    where = `${candidate.path}/'s tree`;
    matchesRecord = (record) => {
      const dirTrees = record.dirTrees;
      if (dirTrees === undefined || !Object.hasOwn(dirTrees, fromPath)) return "not-read";
      return dirTrees[fromPath] === wanted;
    };
  }

  const records = input.stagingRecords;
  if (records.length === 0) {
    return {
      ok: false,
      reasons: [{ kind: "no-records" }],
      text: `No ${from} record was found: ${where} must first be recorded on ${from}.`,
    };
  }

  const matching: StagingRecord[] = [];
  let notRead = 0;
  for (const record of records) {
    const verdict = matchesRecord(record);
    if (verdict === "not-read") notRead++;
    else if (verdict) matching.push(record);
  }
  const usable = matching.filter((record) => record.breakGlass !== true);
  const ageOf = (record: StagingRecord) =>
    Number.isFinite(record.recordedAt) ? now - record.recordedAt : Number.NEGATIVE_INFINITY;
  const qualifying = usable.filter((record) => ageOf(record) >= minAgeMs);
  const newestFirst = (a: StagingRecord, b: StagingRecord) =>
    b.sequence - a.sequence || b.recordedAt - a.recordedAt;

  const best = [...qualifying].sort(newestFirst)[0];
  if (best !== undefined) {
    const ageMs = ageOf(best);
    return {
      ok: true,
      promoted: true,
      matched: best,
      ageMs,
      text:
        `${capitalize(where)} equals the one ${from} record #${best.sequence} (${best.recordCommit.slice(0, 7)}) carries, ` +
        `recorded ${formatDuration(ageMs)} ago (min_age ${formatDuration(minAgeMs)}).`,
    };
  }

  const reasons: PromotionReason[] = [];
  // The one closest to qualifying: the oldest matching record.
  const oldest = [...usable].sort((a, b) => ageOf(b) - ageOf(a))[0];
  if (oldest !== undefined) {
    const ageMs = ageOf(oldest);
    reasons.push({
      kind: "too-young",
      record: oldest,
      ageMs,
      shortByMs: Number.isFinite(ageMs) ? minAgeMs - ageMs : Number.POSITIVE_INFINITY,
    });
  }
  for (const record of matching.filter((r) => r.breakGlass === true).sort(newestFirst)) {
    reasons.push({ kind: "break-glass-source", record });
  }
  if (candidate.kind === "directory" && notRead > 0) {
    reasons.push({ kind: "directory-not-read", records: notRead, path: candidate.fromPath });
  }
  if (matching.length === 0) reasons.push({ kind: "no-tree-match", records: records.length });
  return { ok: false, reasons, text: reasons.map((reason) => describe(reason, from, where)).join(" ") };
}

function describe(reason: PromotionReason, from: string, where: string): string {
  switch (reason.kind) {
    case "no-records":
      return `No ${from} record was found.`;
    case "no-tree-match":
      return `None of the ${reason.records} ${from} record(s) read carries ${where}: promote a tree ${from} has recorded.`;
    case "too-young": {
      const r = reason.record;
      const age = Number.isFinite(reason.ageMs)
        ? reason.ageMs < 0
          ? `issued ${formatDuration(-reason.ageMs)} in the future`
          : `recorded ${formatDuration(reason.ageMs)} ago`
        : "recorded at an unreadable time";
      const short = Number.isFinite(reason.shortByMs)
        ? `, ${formatDuration(reason.shortByMs)} short of min_age`
        : "";
      return `${from} record #${r.sequence} (${r.recordCommit.slice(0, 7)}) carries ${where} but was ${age}${short}.`;
    }
    case "break-glass-source":
      return `${from} record #${reason.record.sequence} (${reason.record.recordCommit.slice(0, 7)}) carries ${where} but is a break-glass record, which is no promotion source.`;
    case "directory-removed":
      return `The pull request removes ${reason.path}/.`;
    case "directory-not-read":
      return `${reason.path}/ could not be read in ${reason.records} ${from} record(s).`;
    case "invalid-input":
      return `Cannot judge the promotion: ${reason.reason}.`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "1h 5m", "3d 2h", "45s": the largest unit and the next one when not zero, for check text. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "an unknown time";
  const seconds = Math.max(0, Math.round(ms / 1000));
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  for (const [i, [unit, size]] of units.entries()) {
    if (seconds < size) continue;
    const n = Math.floor(seconds / size);
    const next = units[i + 1];
    const m = next === undefined ? 0 : Math.floor((seconds - n * size) / next[1]);
    return next !== undefined && m > 0 ? `${n}${unit} ${m}${next[0]}` : `${n}${unit}`;
  }
  return "0s";
}
