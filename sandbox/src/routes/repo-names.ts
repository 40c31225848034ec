// Shared by repository creation (repos.ts) and forking (forks.ts), which imports nothing else of
// repos.ts: kept apart so the two route modules do not import each other.
import type { SandboxCore } from "../core.js";
import { validationFailed } from "../http/errors.js";

/** GitHub's 422 when the account already has a repository of that name (creating or forking). */
export function requireFreeRepoName(core: SandboxCore, owner: string, name: string): void {
  if (core.repo(owner, name) !== undefined)
    throw validationFailed({
      resource: "Repository",
      field: "name",
      code: "custom",
      message: "name already exists on this account",
    });
}
