/**
 * The options `pullgate verify` and `pullgate agent` share, checked once: where to fetch, which
 * repository and environment the records must name, the pinned keyring, the maximum age.
 */

import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { IoError, UsageError } from "../cli/errors.js";
import { isEnvironmentName, isRepositoryName } from "../record/format.js";
import { readPublicKeys } from "../record/keys.js";
import { parseDuration } from "./duration.js";
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
  maxAgeMs: number | null;
}

export interface TargetOptions {
  repo: string;
  environment: string;
  keys: string;
  repository?: string | undefined;
  maxAge?: string | undefined;
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

  let maxAgeMs: number | null = null;
  if (options.maxAge !== undefined) {
    maxAgeMs = parseDuration(options.maxAge);
    if (maxAgeMs === null)
      throw new UsageError(
        `--max-age ${JSON.stringify(options.maxAge)} is not a duration like 30s, 15m, 24h, 7d`,
      );
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
  };
}
