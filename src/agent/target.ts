/**
 * The options `pullgate verify` and `pullgate agent` share, checked once: where to fetch, which
 * repository and environment the records must name, the pinned keyring, the maximum age.
 */

import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { IoError, UsageError } from "../errors.js";
import { isEnvironmentName, isRepositoryName } from "../record/format.js";
import { readPublicKeys } from "../record/keys.js";
import { defaultMaxAgeMs, DEFAULT_REFRESH_INTERVAL_MS } from "../record/freshness.js";
import { formatDuration, parseDuration } from "./duration.js";
import { KeyringError, readKeyringPath } from "./keyring.js";
import { deriveRepository } from "./repository.js";

export interface RecordTarget {
  /** What git fetches: a URL, or an absolute local path. */
  url: string;
  repository: string;
  /** True when `repository` was guessed from the URL (no --repository). */
  repositoryDerived: boolean;
  environment: string;
  keyring: string[];
  /** null only with `--max-age none`. */
  maxAgeMs: number | null;
  /** Where maxAgeMs came from, for the line printed at start. */
  maxAgeSource: "default" | "flag" | "none";
  /** "max-age 50h (default: 2 × refresh interval 24h + 2h)", or the warning for none. */
  maxAgeNote: string;
  /** `--refuse-break-glass`: a record marked break-glass is refused (BREAK_GLASS_REFUSED). */
  refuseBreakGlass: boolean;
}

export interface TargetOptions {
  repo: string;
  environment: string;
  keys: string;
  repository?: string | undefined;
  maxAge?: string | undefined;
  refreshInterval?: string | undefined;
  refuseBreakGlass?: boolean | undefined;
}

export async function resolveTarget(options: TargetOptions, cwd: string): Promise<RecordTarget> {
  if (!isEnvironmentName(options.environment)) {
    throw new UsageError(
      `--environment ${JSON.stringify(options.environment)} is not a valid environment name`,
    );
  }
  if (options.repo.startsWith("-")) throw new UsageError("--repo must be a URL or a path");
  // A local path (relative to the command's cwd) when it exists, otherwise a URL for git.
  const local = isAbsolute(options.repo) ? options.repo : resolve(cwd, options.repo);
  const url = !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.repo) && existsSync(local) ? local : options.repo;

  const repository = options.repository ?? deriveRepository(url);
  if (repository === null) {
    throw new UsageError(`cannot derive owner/name from ${options.repo}; pass --repository OWNER/NAME`);
  }
  if (!isRepositoryName(repository))
    throw new UsageError(`--repository ${JSON.stringify(repository)} is not OWNER/NAME`);

  // Freshness is on by default (docs/agents.md, "Freshness: --max-age"): without it an attacker who
  // holds the mirror back can serve an old genuine record forever. Only "none" turns it off.
  let refreshMs = DEFAULT_REFRESH_INTERVAL_MS;
  if (options.refreshInterval !== undefined) {
    const parsed = parseDuration(options.refreshInterval);
    if (parsed === null)
      throw new UsageError(
        `--refresh-interval ${JSON.stringify(options.refreshInterval)} is not a duration like 12h, 24h`,
      );
    refreshMs = parsed;
  }
  let maxAgeMs: number | null;
  let maxAgeSource: RecordTarget["maxAgeSource"];
  let maxAgeNote: string;
  if (options.maxAge === "none") {
    maxAgeMs = null;
    maxAgeSource = "none";
    maxAgeNote =
      "WARNING: --max-age none: freshness is not checked; a mirror that keeps serving an old " +
      "genuine record (freeze) goes unnoticed";
  } else if (options.maxAge !== undefined) {
    maxAgeMs = parseDuration(options.maxAge);
    if (maxAgeMs === null)
      throw new UsageError(
        `--max-age ${JSON.stringify(options.maxAge)} is not a duration like 30s, 15m, 24h, 7d, or none`,
      );
    maxAgeSource = "flag";
    maxAgeNote = `max-age ${formatDuration(maxAgeMs)} (--max-age)`;
  } else {
    maxAgeMs = defaultMaxAgeMs(refreshMs);
    maxAgeSource = "default";
    maxAgeNote =
      `max-age ${formatDuration(maxAgeMs)} (default: 2 × refresh interval ` +
      `${formatDuration(refreshMs)} + ${formatDuration(maxAgeMs - 2 * refreshMs)})`;
  }

  let keyring: string[];
  try {
    keyring = await readKeyringPath(isAbsolute(options.keys) ? options.keys : resolve(cwd, options.keys));
    if ((await readPublicKeys(keyring)).length === 0) throw new KeyringError("no key in the keyring");
  } catch (error) {
    throw new IoError(error instanceof Error ? error.message : String(error));
  }
  return {
    url,
    repository,
    repositoryDerived: options.repository === undefined,
    environment: options.environment,
    keyring,
    maxAgeMs,
    maxAgeSource,
    maxAgeNote,
    refuseBreakGlass: options.refuseBreakGlass === true,
  };
}
