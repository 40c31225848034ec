/**
 * The record log: after each record is published, the app writes a completed check run named
 * `pullgate/record` on the landed source commit, whose `external_id` names the environment, the
 * sequence and the record's SHA. Check runs can be written only by the app that owns them (GitHub
 * refuses another app's PATCH, and users cannot create them), so the log is the trust anchor the
 * publisher restores a tampered `approved/<env>` from without trusting that ref
 * (docs/architecture.md, "Publishing records"; docs/threat-model.md, "Record refs").
 */
import type { GitHub, RepoRef } from "../octokit.js";

export const RECORD_LOG_CHECK = "pullgate/record";
const PREFIX = "pullgate-record:v1:";

export interface RecordLogEntry {
  environment: string;
  sequence: number;
  record: string;
}

/** `pullgate-record:v1:<environment>:<sequence>:<record sha>`. */
export function formatLogId(entry: RecordLogEntry): string {
  return `${PREFIX}${entry.environment}:${entry.sequence}:${entry.record}`;
}

/** The entry an external_id names, or null for anything that is not exactly one. */
export function parseLogId(id: string | null | undefined): RecordLogEntry | null {
  if (typeof id !== "string" || !id.startsWith(PREFIX)) return null;
  // The environment comes first and may be any name: the sequence and SHA are read from the right.
  const m = /^(.+):([1-9][0-9]{0,15}):([0-9a-f]{40})$/.exec(id.slice(PREFIX.length));
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return null;
  const sequence = Number(m[2]);
  if (!Number.isSafeInteger(sequence)) return null;
  return { environment: m[1], sequence, record: m[3] };
}

/** The newest (highest sequence) entry for `environment` among check runs the app wrote. */
export function newestEntry(
  runs: readonly { name: string; app_id: number | null; status: string; external_id: string | null }[],
  appId: number,
  environment: string,
): RecordLogEntry | null {
  let newest: RecordLogEntry | null = null;
  for (const run of runs) {
    if (run.name !== RECORD_LOG_CHECK || run.app_id !== appId || run.status !== "completed") continue;
    const entry = parseLogId(run.external_id);
    if (entry === null || entry.environment !== environment) continue;
    if (newest === null || entry.sequence > newest.sequence) newest = entry;
  }
  return newest;
}

/** Writes the log entry for a published record: one request. */
export async function writeRecordLog(
  gh: GitHub,
  repo: RepoRef,
  sourceCommit: string,
  entry: RecordLogEntry,
  pullRequest: number,
): Promise<void> {
  await gh.rest.checks.create({
    ...repo,
    name: RECORD_LOG_CHECK,
    head_sha: sourceCommit,
    status: "completed",
    conclusion: "success",
    completed_at: new Date().toISOString(),
    external_id: formatLogId(entry),
    output: {
      title: `Record #${entry.sequence} published for ${entry.environment}`,
      summary: `Pull request #${pullRequest} landed as this commit; approved-revision record #${entry.sequence} (${entry.record}) on approved/${entry.environment} names it.`,
    },
  });
}

/** The app's newest log entry for `environment` on one commit, or null: one request. */
export async function readRecordLog(
  gh: GitHub,
  repo: RepoRef,
  commit: string,
  appId: number,
  environment: string,
): Promise<RecordLogEntry | null> {
  const runs = await gh.paginate(gh.rest.checks.listForRef, {
    ...repo,
    ref: commit,
    check_name: RECORD_LOG_CHECK,
    app_id: appId,
    filter: "all",
    per_page: 100,
  });
  return newestEntry(
    runs
      .filter((r) => r.head_sha === commit)
      .map((r) => ({
        name: r.name,
        app_id: r.app?.id ?? null,
        status: r.status,
        external_id: r.external_id ?? null,
      })),
    appId,
    environment,
  );
}
