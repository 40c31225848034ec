/**
 * The agent's memory: the last ACCEPTED record (what rollback and replay are measured against) and
 * the last record successfully DEPLOYED (checked out and --exec succeeded). Written atomically
 * (temp file, fsync, rename, fsync of the folder): a crash leaves the old state or the new, never a
 * torn file. An unreadable state file is an error, never "no state": forgetting would re-open rollback.
 */

import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface DeployedRecord {
  recordCommit: string;
  sequence: number;
  deployedAt: string;
  /**
   * The tree that runs. A newer record with the same tree (a refresh, a revert to it) is "nothing new
   * to deploy". Absent in state files written before it existed: then read from the record commit.
   */
  sourceTree?: string;
}

export interface AgentState {
  repository: string;
  environment: string;
  sequence: number;
  recordCommit: string;
  sourceCommit: string;
  sourceTree: string;
  acceptedAt: string;
  /** Set by `pullgate agent` once the accepted record's tree was checked out and --exec succeeded. */
  deployed?: DeployedRecord;
}

export class StateError extends Error {
  override readonly name = "StateError";
}

const SHA1 = /^[0-9a-f]{40}$/;

/** The state in FILE, or null when the file does not exist. Throws StateError when it is unusable. */
export async function readState(file: string): Promise<AgentState | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StateError(`cannot read state file ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StateError(`state file ${file} is not valid JSON; refusing to forget the last accepted record`);
  }
  const problem = stateProblem(value);
  if (problem !== null) throw new StateError(`state file ${file}: ${problem}`);
  return value as AgentState;
}

function stateProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const v = value as Record<string, unknown>;
  for (const key of ["repository", "environment", "acceptedAt"]) {
    if (typeof v[key] !== "string") return `${key} must be a string`;
  }
  for (const key of ["recordCommit", "sourceCommit", "sourceTree"]) {
    if (typeof v[key] !== "string" || !SHA1.test(v[key])) return `${key} must be a 40-hex SHA`;
  }
  if (!Number.isSafeInteger(v["sequence"]) || (v["sequence"] as number) < 1)
    return "sequence must be a positive integer";
  const deployed = v["deployed"];
  if (deployed !== undefined) {
    if (typeof deployed !== "object" || deployed === null) return "deployed must be an object";
    const d = deployed as Record<string, unknown>;
    if (typeof d["recordCommit"] !== "string" || !SHA1.test(d["recordCommit"]))
      return "deployed.recordCommit must be a SHA";
    if (!Number.isSafeInteger(d["sequence"])) return "deployed.sequence must be an integer";
    if (typeof d["deployedAt"] !== "string") return "deployed.deployedAt must be a string";
    if (d["sourceTree"] !== undefined && (typeof d["sourceTree"] !== "string" || !SHA1.test(d["sourceTree"])))
      return "deployed.sourceTree must be a SHA";
  }
  return null;
}

/** Replaces FILE with the state, atomically and durably. */
export async function writeStateAtomic(file: string, state: AgentState): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(JSON.stringify(state, null, 2) + "\n", "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  // fsync the folder so the rename itself survives a power loss (best effort: not every FS allows it).
  try {
    const folder = await open(dir, "r");
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch {
    /* directories cannot be fsynced on some platforms; the rename is still atomic */
  }
}
