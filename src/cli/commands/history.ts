import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitCache } from "../../agent/git.js";
import type { RecordTarget } from "../../agent/target.js";
import { parentsOf, readVerificationInput, type RecordObjects } from "../../record/chain.js";
import { RecordVerificationError, type RecordRefusalCode } from "../../record/errors.js";
import { parseRecordMessage, type RecordFields } from "../../record/format.js";
import { recordKind, type RecordKind } from "../../record/kind.js";
import { parseRawCommit } from "../../record/raw-commit.js";
import { verifyRecord, type RecordVerificationContext } from "../../record/verify.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import { RECORD_TARGET_OPTIONS, recordTargetFrom } from "../record-target.js";

/** One record of approved/<env>, newest first; the `--json` contract (docs/agents.md, "pullgate history"). */
export interface HistoryEntry {
  recordCommit: string;
  verified: boolean;
  /** Authenticated values: null unless `verified` (a failing record's claims are in `claimed`). */
  sequence: number | null;
  kind: RecordKind | null;
  issuedAt: string | null;
  sourceCommit: string | null;
  sourceTree: string | null;
  branch: string | null;
  pullRequest: number | null;
  /** `Name <email>` of the source commit's git author (bound to the record by its SHA). */
  author: string | null;
  approvedBy: string[] | null;
  policyDigest: string | null;
  signer: string | null;
  /** Why the record failed verification; null when it verified. */
  failure: { code: RecordRefusalCode; reason: string } | null;
  /** What a failing record's trailers say, UNAUTHENTICATED; null when verified or unreadable. */
  claimed: RecordFields | null;
}

export interface History {
  repository: string;
  environment: string;
  /** The commit approved/<env> points at. */
  head: string;
  /** Newest first, down to record #1 unless the walk could not go on (then `complete` is false). */
  records: HistoryEntry[];
  /** True when the walk reached the first record (a commit with one parent). */
  complete: boolean;
  /** True when every record verified and the walk was complete. */
  verified: boolean;
  maxAgeSeconds: number | null;
}

/**
 * Fetches approved/<env> and verifies every record on its first-parent chain as the agent does:
 * the head as `pullgate verify` verifies it (with max-age), each older record as
 * verifyRecordsBetween verifies the records between two accepted ones (no max-age: they are old by
 * nature). A record that fails is listed with its refusal and the walk goes on through its first
 * parent while that parent still claims to be a record; nothing is skipped silently.
 * Throws RecordVerificationError("FETCH_FAILED") when the ref cannot be fetched.
 */
export async function readHistory(target: RecordTarget, io: CliIo, now: Date): Promise<History> {
  const temporary = await mkdtemp(join(tmpdir(), "pullgate-history-"));
  try {
    const cache = new GitCache(temporary, { ...process.env, ...io.env });
    let head: string;
    try {
      await cache.init();
      head = await cache.fetchApproved(target.url, target.environment);
    } catch (error) {
      throw new RecordVerificationError(
        "FETCH_FAILED",
        `approved/${target.environment} from ${target.url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    // Each record is read three times in a walk (as the previous record of the newer one, as a
    // record, as the parent of the older one): remember objects, git is a process per read.
    const commits = new Map<string, Promise<string | null>>();
    const trees = new Map<string, Promise<string | null>>();
    const remember = <T>(map: Map<string, Promise<T>>, sha: string, read: () => Promise<T>): Promise<T> => {
      let found = map.get(sha);
      if (found === undefined) map.set(sha, (found = read()));
      return found;
    };
    const objects: RecordObjects = {
      commit: (sha) =>
        remember(commits, sha, async () => ((await cache.hasCommit(sha)) ? cache.catCommit(sha) : null)),
      treeOf: (sha) => remember(trees, sha, () => cache.treeOf(sha)),
    };
    const records = await walkRecords(objects, head, target, now);
    const complete = records.complete;
    return {
      repository: target.repository,
      environment: target.environment,
      head,
      records: records.entries,
      complete,
      verified: complete && records.entries.every((e) => e.verified),
      maxAgeSeconds: target.maxAgeMs === null ? null : target.maxAgeMs / 1000,
    };
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/** The walk itself, over any object source (exported for tests and `pullgate attest`). */
export async function walkRecords(
  objects: RecordObjects,
  head: string,
  target: Pick<RecordTarget, "keyring" | "repository" | "environment" | "maxAgeMs">,
  now: Date,
): Promise<{ entries: HistoryEntry[]; complete: boolean }> {
  const entries: HistoryEntry[] = [];
  let sha: string | undefined = head;
  while (sha !== undefined) {
    const current: string = sha;
    const ctx: RecordVerificationContext = {
      keyring: target.keyring,
      repository: target.repository,
      environment: target.environment,
      lastAccepted: null,
      now,
      maxAgeMs: current === head ? target.maxAgeMs : null,
    };
    const raw = await objects.commit(current);
    if (raw === null) {
      entries.push(failed(current, "MALFORMED_RECORD", `record ${sha} is not available`, null));
      return { entries, complete: false };
    }
    const parents = parentsOf(raw);
    try {
      const record = await verifyRecord(await readVerificationInput(objects, current, null), ctx);
      const { fields } = record;
      entries.push({
        recordCommit: current,
        verified: true,
        sequence: fields.sequence,
        kind: recordKind(fields, record),
        issuedAt: fields.issuedAt,
        sourceCommit: fields.sourceCommit,
        sourceTree: fields.sourceTree,
        branch: fields.branch,
        pullRequest: fields.pullRequest,
        author: await authorOf(objects, fields.sourceCommit),
        approvedBy: [...fields.approvedBy],
        policyDigest: fields.policyDigest,
        signer: record.signer,
        failure: null,
        claimed: null,
      });
      // checkParents held record #1 to one parent and #n to [record #n-1, source].
      sha = fields.sequence === 1 ? undefined : parents[0];
    } catch (error) {
      if (!(error instanceof RecordVerificationError)) throw error;
      const claimed = claimedFields(raw);
      entries.push(failed(current, error.code, error.detail, claimed));
      if (parents.length === 1) return { entries, complete: true };
      // Go on only while the chain still looks like records: past a commit that does not even
      // claim to be one, the first parent is source history, not records.
      if (parents.length !== 2 || claimed === null || claimed.sequence <= 1) {
        return { entries, complete: false };
      }
      sha = parents[0];
    }
  }
  return { entries, complete: true };
}

function failed(
  recordCommit: string,
  code: RecordRefusalCode,
  reason: string,
  claimed: RecordFields | null,
): HistoryEntry {
  return {
    recordCommit,
    verified: false,
    sequence: null,
    kind: null,
    issuedAt: null,
    sourceCommit: null,
    sourceTree: null,
    branch: null,
    pullRequest: null,
    author: null,
    approvedBy: null,
    policyDigest: null,
    signer: null,
    failure: { code, reason },
    claimed,
  };
}

function claimedFields(raw: string): RecordFields | null {
  try {
    return parseRecordMessage(parseRawCommit(raw).message).fields;
  } catch {
    return null;
  }
}

async function authorOf(objects: RecordObjects, sourceCommit: string): Promise<string | null> {
  const raw = await objects.commit(sourceCommit);
  if (raw === null) return null;
  try {
    const { author } = parseRawCommit(raw);
    return `${author.name} <${author.email}>`;
  } catch {
    // Source commits are made by people and tools, not by pullgate: a strictness the record parser
    // applies must not hide a verified record; the author is then unknown.
    return null;
  }
}

const HISTORY_OPTIONS = {
  repo: RECORD_TARGET_OPTIONS.repo,
  environment: RECORD_TARGET_OPTIONS.environment,
  keys: RECORD_TARGET_OPTIONS.keys,
  "max-age": RECORD_TARGET_OPTIONS["max-age"],
  "refresh-interval": RECORD_TARGET_OPTIONS["refresh-interval"],
  repository: RECORD_TARGET_OPTIONS.repository,
} as const;

export const command: Command = {
  usage:
    "history --repo URL|DIR --environment ENV --keys PATH [--max-age DUR|none] [--refresh-interval DUR] " +
    "[--repository OWNER/NAME] [--json]",
  summary: "List and verify every record of approved/<ENV>: sequence, time, source, PR, approvers, kind",
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, HISTORY_OPTIONS, false);
    const target = await recordTargetFrom(values, io.cwd);
    if (target.maxAgeSource === "none") io.stderr(`pullgate history: ${target.maxAgeNote}`);
    let history: History;
    try {
      history = await readHistory(target, io, new Date());
    } catch (error) {
      if (!(error instanceof RecordVerificationError)) throw error;
      if (values.json) printJson(io, { verified: false, code: error.code, reason: error.message });
      io.stderr(`pullgate history: ${error.code}: ${error.message}`);
      return EXIT_USAGE;
    }
    if (values.json) printJson(io, history);
    else io.stdout(formatHistoryTable(history));
    const failures = history.records.filter((r) => !r.verified);
    for (const entry of failures) {
      io.stderr(
        `pullgate history: FAILED ${entry.failure?.code ?? ""} ${entry.recordCommit}: ${entry.failure?.reason ?? ""}`,
      );
    }
    if (!history.complete) {
      io.stderr(
        "pullgate history: the chain could not be followed to record #1; older records are not shown",
      );
    }
    return history.verified ? EXIT_OK : EXIT_FAILURE;
  },
};

const short = (sha: string | null): string => (sha === null ? "-" : sha.slice(0, 12));

/** The terminal table: one row per record, aligned columns, short SHAs. */
export function formatHistoryTable(history: History): string {
  const header = [
    "SEQ",
    "STATUS",
    "KIND",
    "ISSUED",
    "SOURCE",
    "PR",
    "AUTHOR",
    "APPROVED BY",
    "POLICY",
    "RECORD",
  ];
  const rows = history.records.map((r) => {
    const claimed = r.claimed;
    return [
      r.sequence !== null ? `#${r.sequence}` : claimed !== null ? `(#${claimed.sequence})` : "?",
      r.verified ? "verified" : `FAILED ${r.failure?.code ?? ""}`,
      r.kind ?? "-",
      r.issuedAt ?? "-",
      short(r.sourceCommit),
      r.pullRequest === null ? "-" : `#${r.pullRequest}`,
      r.author ?? "-",
      r.approvedBy === null ? "-" : r.approvedBy.join(","),
      r.policyDigest === null ? "-" : r.policyDigest.slice(0, 19),
      short(r.recordCommit),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const title =
    `${history.repository} approved/${history.environment}: ${history.records.length} record(s), ` +
    (history.verified
      ? "all verified"
      : `${history.records.filter((r) => !r.verified).length} FAILED` +
        (history.complete ? "" : ", chain incomplete"));
  const notes = history.records.some((r) => !r.verified)
    ? ["", "(#n) in parentheses: the sequence a failing record claims (unauthenticated)."]
    : [];
  return [title, "", line(header), ...rows.map(line), ...notes].join("\n");
}
