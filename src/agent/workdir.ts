/**
 * The agent's working directory. DIR is a symlink, swapped atomically (rename of a new link over it),
 * to a checkout of the last successfully deployed tree kept in a sibling folder `.DIRNAME.pullgate/`.
 * A new tree is checked out beside it, --exec runs there, and only on success does DIR flip to it:
 * DIR never shows a half-written tree, and after a failed deploy it still shows what runs.
 * The folder also holds the default state file and git cache (`state.json`, `state.json.git`).
 */

import { lstat, mkdir, readdir, readlink, rename, rm, rmdir, symlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { GitCache } from "./git.js";

export class WorkdirError extends Error {
  override readonly name = "WorkdirError";
}

export class Workdir {
  readonly path: string;
  readonly versions: string;

  constructor(path: string) {
    this.path = resolve(path);
    this.versions = join(dirname(this.path), `.${basename(this.path)}.pullgate`);
  }

  /** The state file used when --state is not given (docs/agents.md, "State"). */
  get defaultStateFile(): string {
    return join(this.versions, "state.json");
  }

  /** Refuses to take over a DIR that holds someone else's files. */
  async prepare(): Promise<void> {
    await mkdir(this.versions, { recursive: true });
    let info;
    try {
      info = await lstat(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (info.isSymbolicLink()) {
      const target = resolve(dirname(this.path), await readlink(this.path));
      if (dirname(target) !== this.versions) {
        throw new WorkdirError(`${this.path} is a symlink pullgate does not manage (to ${target})`);
      }
      return;
    }
    if (info.isDirectory() && (await readdir(this.path)).length === 0) {
      await rmdir(this.path); // an empty folder made by the operator: replaced by our symlink
      return;
    }
    throw new WorkdirError(`${this.path} exists and is not a pullgate-managed workdir; use a new path`);
  }

  /** Checks the tree out into a fresh version folder named after the record; returns its path. */
  async stage(cache: GitCache, recordCommit: string, tree: string): Promise<string> {
    const final = join(this.versions, recordCommit);
    const temp = `${final}.tmp`;
    await rm(temp, { recursive: true, force: true });
    await rm(final, { recursive: true, force: true });
    await cache.checkoutTree(tree, temp);
    await rename(temp, final);
    return final;
  }

  /**
   * The version folder DIR points at, or null when DIR is missing or does not point at an existing
   * version (then even an unchanged tree has to be checked out again).
   */
  async active(): Promise<string | null> {
    try {
      const info = await lstat(this.path);
      if (!info.isSymbolicLink()) return null;
      const target = resolve(dirname(this.path), await readlink(this.path));
      if (dirname(target) !== this.versions) return null;
      return (await lstat(target)).isDirectory() ? target : null;
    } catch {
      return null;
    }
  }

  /** Points DIR at the staged version (atomic rename of a new symlink), then drops other versions. */
  async activate(staged: string): Promise<void> {
    const link = join(this.versions, `.link-${process.pid}-${Date.now()}`);
    await symlink(staged, link, "dir");
    await rename(link, this.path);
    // Only versions and leftover links: the default state file and git cache live here too.
    for (const entry of await readdir(this.versions)) {
      const full = join(this.versions, entry);
      if (full !== staged && /^([0-9a-f]{40}(\.tmp)?|\.link-.*)$/.test(entry))
        await rm(full, { recursive: true, force: true });
    }
  }

  /** Removes a staged version that will not be activated (failed --exec). */
  async discard(staged: string): Promise<void> {
    await rm(staged, { recursive: true, force: true });
  }
}
