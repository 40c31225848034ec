import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { runGit } from "./runner.js";

/**
 * A fork's bare repository: a local `git clone --bare` of the parent (objects hard-linked where
 * the filesystem allows, which is safe: objects are immutable), so it starts with the parent's
 * branches and tags and none of its other refs (`refs/pull/*`). With `defaultBranchOnly`, only
 * the default branch (GitHub's `default_branch_only`). The clone's `origin` remote is removed:
 * a fork on GitHub does not track its parent.
 */
export async function cloneBareFork(
  parentPath: string,
  forkPath: string,
  options: { defaultBranchOnly: boolean; defaultBranch: string },
): Promise<void> {
  mkdirSync(dirname(forkPath), { recursive: true });
  const args = ["clone", "--quiet", "--bare", "--no-tags"];
  if (options.defaultBranchOnly) args.push("--single-branch", "--branch", options.defaultBranch);
  args.push(parentPath, forkPath);
  // --no-tags keeps clone from following tags into a single-branch clone; tags are copied below.
  await runGit(dirname(forkPath), args);
  if (!options.defaultBranchOnly)
    await runGit(forkPath, ["fetch", "--quiet", parentPath, "+refs/tags/*:refs/tags/*"]);
  await runGit(forkPath, ["remote", "remove", "origin"]);
  await runGit(forkPath, ["config", "http.receivepack", "true"]);
}

/**
 * Copies a commit and everything it reaches from another repository on disk into `targetPath`
 * (what GitHub does when it keeps a fork PR's head in the base repository). The source serves
 * the commit by sha (`uploadpack.allowAnySHA1InWant` for this one upload-pack only), so the copy
 * is of exactly the commit the caller saw, whatever the fork's branch points to by now.
 */
export async function fetchCommitInto(targetPath: string, sourcePath: string, sha: string): Promise<void> {
  await runGit(targetPath, [
    "fetch",
    "--quiet",
    "--no-tags",
    "--no-write-fetch-head",
    "--upload-pack=git -c uploadpack.allowAnySHA1InWant=true upload-pack",
    sourcePath,
    sha,
  ]);
}
