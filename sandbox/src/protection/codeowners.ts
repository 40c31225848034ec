import { minimatch } from "minimatch";
import type { SandboxCore } from "../core.js";
import type { PullRecord, RepoRecord } from "../state/types.js";

const LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];
const MAX_BYTES = 3 * 1024 * 1024;

interface Rule {
  globs: string[];
  owners: string[];
}

/** A CODEOWNERS pattern as minimatch globs (GitHub's gitignore-like rules, simplified). */
function globsFor(pattern: string): string[] {
  let p = pattern;
  const anchored = p.startsWith("/") || p.replace(/\/$/, "").includes("/");
  p = p.replace(/^\//, "");
  const directory = p.endsWith("/");
  p = p.replace(/\/$/, "");
  const base = anchored ? p : `**/${p}`;
  const last = p.split("/").pop() ?? "";
  // `docs/*` owns direct children only; a plain name or a directory owns everything below it.
  if (directory || !last.includes("*")) return directory ? [`${base}/**`] : [base, `${base}/**`];
  return [base];
}

function parse(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern === undefined || pattern.startsWith("!") || pattern.includes("[")) continue; // GitHub ignores these
    rules.push({ globs: globsFor(pattern), owners });
  }
  return rules;
}

/** Owners of a path: the last matching rule wins (an empty owner list means "no owners"). */
function ownersOf(rules: Rule[], path: string): string[] | null {
  let owners: string[] | null = null;
  for (const rule of rules)
    if (rule.globs.some((g) => minimatch(path, g, { dot: true }))) owners = rule.owners;
  return owners;
}

/** Owners of `path` under a CODEOWNERS text (null = no rule matches). */
export function codeOwnersOf(text: string, path: string): string[] | null {
  return ownersOf(parse(text), path);
}

/**
 * Files of the PR whose code owners (from the base branch's CODEOWNERS) have not approved.
 * Simplified: owners are @user, @org/team (any member) or a user's email; approvals are the
 * tallied approvers (write access, not the author).
 */
export async function filesMissingOwnerApproval(
  core: SandboxCore,
  repo: RepoRecord,
  pr: PullRecord,
  baseSha: string,
  approvers: string[],
): Promise<string[]> {
  const git = core.gitRepo(repo);
  let text: string | null = null;
  for (const location of LOCATIONS) {
    const entry = await git.entryAt(baseSha, location);
    if (entry?.type !== "blob") continue;
    const blob = await git.readBlob(entry.sha);
    if (blob !== null && blob.length <= MAX_BYTES) text = blob.toString("utf8");
    break;
  }
  if (text === null) return [];
  const rules = parse(text);
  const mergeBase = (await git.mergeBase(baseSha, pr.head_sha)) ?? baseSha;
  const approvedBy = (owner: string): boolean => {
    if (owner.startsWith("@") && owner.includes("/")) {
      const [org, slug] = owner.slice(1).split("/") as [string, string];
      const team = core.state.teams[`${org}/${slug}`];
      return team !== undefined && approvers.some((a) => team.members[a] !== undefined);
    }
    if (owner.startsWith("@")) return approvers.some((a) => a.toLowerCase() === owner.slice(1).toLowerCase());
    return approvers.some((a) => core.user(a)?.email?.toLowerCase() === owner.toLowerCase());
  };
  const missing: string[] = [];
  for (const file of await git.changedFiles(mergeBase, pr.head_sha)) {
    for (const path of [
      file.filename,
      ...(file.previous_filename === undefined ? [] : [file.previous_filename]),
    ]) {
      const owners = ownersOf(rules, path);
      if (owners !== null && owners.length > 0 && !owners.some(approvedBy)) {
        missing.push(path);
        break;
      }
    }
  }
  return missing;
}
