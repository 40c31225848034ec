/**
 * Reads approved/<env> from the sandbox's bare repository and judges the whole chain three ways:
 * the agent's own verifier (src/record/verify.ts, record by record, each against the one before,
 * as an agent that saw every record would), GnuPG (`git verify-commit` with only the app's public
 * key in a temp GNUPGHOME), and the shipped CLI (`pullgate verify`, spawned) on the head.
 */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseRawCommit, type RawCommit } from "../../../src/record/index.js";
import { verifyRecord, type AcceptedRecord } from "../../../src/record/verify.js";
import { parseRecordMessage, type RecordFields } from "../../../src/record/format.js";
import { runGit } from "../../../src/demo/git.js";
import type { World } from "../../../src/demo/world.js";
import { ENVIRONMENT } from "../../../src/demo/seed.js";

export interface ChainRecord {
  sha: string;
  commit: RawCommit;
  fields: RecordFields;
}

export interface ChainReport {
  /** Oldest first. */
  records: ChainRecord[];
  /** Refusals by the agent's verifier, by record SHA (empty = all accepted). */
  agentRefusals: string[];
  /** Records GnuPG did not verify. */
  gpgFailures: string[];
  /** `pullgate verify --json` on the head (null when there is no record). */
  cli: { code: number; json: Record<string, unknown> | null; stderr: string } | null;
}

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;

function spawnCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "bin/pullgate.js"), ...args],
      { env: { ...env, PULLGATE_FROM_SOURCE: "1" }, maxBuffer: 1 << 24, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

export async function readChain(world: World, environment = ENVIRONMENT): Promise<ChainRecord[]> {
  const git = (args: string[]) => runGit(world.bareRepository, args, world.gitEnv);
  const head = await git(["rev-parse", "--verify", "-q", `refs/heads/approved/${environment}`]);
  if (head.code !== 0) return [];
  // Walk back through first parents: a record with two parents sits on the previous record; the
  // first record has only its source commit as parent. Bounded by the chain length of the test.
  const records: ChainRecord[] = [];
  let sha: string | undefined = head.stdout.trim();
  for (let guard = 0; sha !== undefined && guard < 10_000; guard++) {
    const raw = await git(["cat-file", "commit", sha]);
    const commit = parseRawCommit(raw.stdout);
    const parsed = parseRecordMessage(commit.message);
    if (!parsed.fields)
      throw new Error(`${sha} on approved/${environment} is not a record: ${parsed.errors.join("; ")}`);
    records.unshift({ sha, commit, fields: parsed.fields });
    sha = commit.parents.length === 2 ? commit.parents[0] : undefined;
  }
  return records;
}

export async function verifyChain(
  world: World,
  scratch: string,
  environment = ENVIRONMENT,
): Promise<ChainReport> {
  const git = (args: string[], env: Record<string, string> = {}) =>
    runGit(world.bareRepository, args, { ...world.gitEnv, ...env });
  const records = await readChain(world, environment);
  const dir = await mkdtemp(join(scratch, "verify-"));
  const keyFile = join(dir, "app.asc");
  await writeFile(keyFile, world.recordPublicKey);

  const agentRefusals: string[] = [];
  let last: AcceptedRecord | null = null;
  let previousRaw: string | null = null;
  for (const record of records) {
    const raw = (await git(["cat-file", "commit", record.sha])).stdout;
    const source = record.commit.parents[record.commit.parents.length - 1];
    const tree = source === undefined ? null : (await git(["rev-parse", `${source}^{tree}`])).stdout.trim();
    try {
      await verifyRecord(
        {
          recordCommit: record.sha,
          recordRaw: raw,
          previousRecordRaw: record.commit.parents.length === 2 ? previousRaw : null,
          sourceCommitTree: tree,
          descendsFromLastAccepted: last === null ? null : record.commit.parents[0] === last.recordCommit,
        },
        {
          keyring: [world.recordPublicKey],
          repository: `${world.org}/${world.repo}`,
          environment,
          lastAccepted: last,
          now: new Date(),
          maxAgeMs: null,
        },
      );
    } catch (error) {
      agentRefusals.push(`${record.sha}: ${error instanceof Error ? error.message : String(error)}`);
    }
    last = { sequence: record.fields.sequence, recordCommit: record.sha };
    previousRaw = raw;
  }

  // GnuPG with nothing but the app's public key.
  const gnupgHome = join(dir, "gnupg");
  await runGit(dir, ["init", "-q", "unused"], world.gitEnv); // ensures dir exists for gpg's sake
  const { mkdir } = await import("node:fs/promises");
  await mkdir(gnupgHome, { mode: 0o700 });
  const gpgEnv = { GNUPGHOME: gnupgHome };
  await new Promise<void>((resolve, reject) =>
    execFile(
      "gpg",
      ["--batch", "--quiet", "--import", keyFile],
      { env: { ...world.gitEnv, ...gpgEnv } },
      (error) => (error ? reject(error) : resolve()),
    ),
  );
  const gpgFailures: string[] = [];
  for (const record of records) {
    const result = await git(["verify-commit", record.sha], gpgEnv);
    if (result.code !== 0) gpgFailures.push(`${record.sha}: ${result.stderr.trim()}`);
  }
  await new Promise<void>((resolve) =>
    execFile("gpgconf", ["--kill", "gpg-agent"], { env: { ...world.gitEnv, ...gpgEnv } }, () => resolve()),
  );

  let cli: ChainReport["cli"] = null;
  if (records.length > 0) {
    const result = await spawnCli(
      ["verify", "--repo", world.bareRepository, "--environment", environment, "--keys", keyFile, "--json"],
      { ...world.gitEnv },
    );
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      json = null;
    }
    cli = { code: result.code, json, stderr: result.stderr };
  }
  return { records, agentRefusals, gpgFailures, cli };
}

/** Chain shape problems: sequence not 1..n, a record not on its predecessor, a source twice. */
export function chainProblems(records: ChainRecord[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (r.fields.sequence !== i + 1)
      problems.push(`${r.sha}: sequence ${r.fields.sequence}, expected ${i + 1}`);
    const expectedParents = i === 0 ? 1 : 2;
    if (r.commit.parents.length !== expectedParents)
      problems.push(`${r.sha}: ${r.commit.parents.length} parents, expected ${expectedParents}`);
    if (i > 0 && r.commit.parents[0] !== records[i - 1]?.sha)
      problems.push(`${r.sha}: first parent is not the previous record`);
    if (r.commit.parents[r.commit.parents.length - 1] !== r.fields.sourceCommit)
      problems.push(`${r.sha}: last parent is not Pullgate-Source-Commit`);
    if (r.commit.tree !== r.fields.sourceTree)
      problems.push(`${r.sha}: tree differs from Pullgate-Source-Tree`);
    if (seen.has(r.fields.sourceCommit))
      problems.push(`${r.sha}: second record for ${r.fields.sourceCommit}`);
    seen.add(r.fields.sourceCommit);
  });
  return problems;
}
