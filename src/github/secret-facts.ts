/**
 * The no-plaintext-secrets rule, gathered (docs/policy.md, "secrets"): reads the head contents of
 * the files a pull request adds or modifies and runs the pure scanner on them.
 *
 * Requests per evaluation, when the rule is on and a changed file needs reading: two recursive tree
 * listings (head and base: which changed paths still exist, their blob SHAs and sizes, what the
 * base already had), then one blob per changed text file, plus one base blob per modified file
 * (to report only the lines this PR adds). Removed files, binary formats, allow-listed paths and
 * contents the base already holds at any path (renames, copies) cost nothing more. Trees and blobs
 * are cached by SHA, so re-evaluating the same head and base (a review, a re-run) costs no request.
 * With the rule off, or no file to read: none.
 *
 * Fails closed: a blob or tree that cannot be read, a truncated tree listing, or a text file over
 * the size cap makes the rule an error with the reason, never a pass.
 */
import {
  addedLines,
  isAllowed,
  isBinaryPath,
  looksBinary,
  MAX_SCANNED_BYTES,
  scanFiles,
  secretsRule,
  type ScannedFile,
  type SecretsPolicy,
  type SecretsVerdict,
} from "../core/secrets/index.js";
import { matchesPattern } from "../core/reviews/pattern.js";
import { ImmutableCache } from "./immutable-cache.js";
import type { GitHub, RepoRef } from "./octokit.js";
import type { PullSnapshot } from "./pull-facts.js";

interface TreeEntry {
  type: string;
  sha: string;
  size?: number;
}

/** Blob bytes by (repository, blob SHA): a SHA names its content forever. */
const blobCache = new ImmutableCache<string, Buffer>(2_000);
/** Recursive tree listings by (repository, tree or commit SHA): as immutable as blobs. */
const treeCache = new ImmutableCache<string, Map<string, TreeEntry>>(16);
/**
 * At most this many changed files are read per evaluation: a 3,000-file PR would otherwise cost up
 * to 6,000 blob requests (more than an installation's hourly budget) and outlast the evaluation
 * deadline. Beyond it the rule errors (fail closed): split the PR or allow-list generated paths.
 */
export const MAX_READ_FILES = 300;
/** Blobs read at once: enough to hide latency, few enough not to trip GitHub's secondary limits. */
const PARALLEL_READS = 8;

export interface SecretsOutcome extends SecretsVerdict {
  /** GitHub requests this rule made (for docs/github-api.md's request budget and its bench). */
  requests: number;
}

class Unreadable extends Error {}

export async function secretsVerdict(
  gh: GitHub,
  repo: RepoRef,
  snapshot: PullSnapshot,
  policy: SecretsPolicy,
): Promise<SecretsOutcome> {
  let requests = 0;
  if (!policy.enabled) {
    return { ...secretsRule({ enabled: false, findings: [], scannedFiles: 0, allowedFiles: [] }), requests };
  }
  const allowedFiles = snapshot.changedFiles.filter((f) => isAllowed(policy.allow, matchesPattern, f));
  const candidates = snapshot.changedFiles.filter(
    (f) => !isBinaryPath(f) && !isAllowed(policy.allow, matchesPattern, f),
  );
  const headTree = snapshot.commits[snapshot.commits.length - 1]?.tree;
  const verdict = (files: ScannedFile[], factsError?: string): SecretsOutcome => {
    const scanned = scanFiles({ files, allow: [], matchesPattern });
    const error = factsError ?? scanned.factsError;
    return {
      ...secretsRule({
        enabled: true,
        findings: scanned.findings,
        scannedFiles: scanned.scannedFiles,
        allowedFiles,
        ...(error !== undefined ? { factsError: error } : {}),
      }),
      requests,
    };
  };
  if (candidates.length === 0) return verdict([]);
  if (headTree === undefined) return verdict([], "the pull request's head tree is unknown");
  if (candidates.length > MAX_READ_FILES) {
    return verdict(
      [],
      `the pull request changes ${candidates.length} files that may hold text; pullgate reads at most ${MAX_READ_FILES} per evaluation to look for secrets`,
    );
  }

  const listTree = (treeish: string, label: string): Promise<Map<string, TreeEntry>> =>
    treeCache.getOrLoad(`${repo.owner}/${repo.repo}:${treeish}`, () => loadTree(treeish, label));
  const loadTree = async (treeish: string, label: string): Promise<Map<string, TreeEntry>> => {
    requests++;
    let data;
    try {
      ({ data } = await gh.rest.git.getTree({ ...repo, tree_sha: treeish, recursive: "true" }));
    } catch (error) {
      throw new Unreadable(`cannot list the ${label} tree: ${(error as Error).message}`);
    }
    // A truncated listing could hide a changed file: it must not read as "removed".
    if (data.truncated) {
      throw new Unreadable(
        `GitHub truncated the ${label} tree listing, so the changed files cannot all be read`,
      );
    }
    const entries = new Map<string, TreeEntry>();
    for (const e of data.tree) {
      if (typeof e.path === "string" && typeof e.sha === "string" && typeof e.type === "string") {
        entries.set(e.path, { type: e.type, sha: e.sha, ...(e.size !== undefined ? { size: e.size } : {}) });
      }
    }
    return entries;
  };
  const readBlob = (sha: string, path: string): Promise<Buffer> =>
    blobCache.getOrLoad(`${repo.owner}/${repo.repo}:${sha}`, async () => {
      requests++;
      try {
        const { data } = await gh.rest.git.getBlob({ ...repo, file_sha: sha });
        if (data.encoding !== "base64" && data.encoding !== "utf-8") {
          throw new Error(`unexpected blob encoding ${String(data.encoding)}`);
        }
        return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
      } catch (error) {
        throw new Unreadable(`cannot read ${path} (blob ${sha.slice(0, 7)}): ${(error as Error).message}`);
      }
    });

  try {
    const [head, base] = await Promise.all([listTree(headTree, "head"), listTree(snapshot.baseSha, "base")]);
    // Contents the base holds at a path the rule scans: a copy of an allow-listed fixture into a
    // scanned path is read like any new file.
    const baseBlobs = new Set<string>();
    for (const [path, e] of base) {
      if (e.type === "blob" && !isAllowed(policy.allow, matchesPattern, path)) baseBlobs.add(e.sha);
    }
    const files: ScannedFile[] = [];
    const tooLarge: string[] = [];
    const read = async (path: string): Promise<void> => {
      const entry = head.get(path);
      // Removed (or the old side of a rename), a submodule, or a directory: no content to judge.
      if (entry === undefined || entry.type !== "blob") return;
      // Content the base already holds somewhere scanned (a rename, a copy) brings nothing new.
      if (baseBlobs.has(entry.sha)) return;
      if (entry.size !== undefined && entry.size > MAX_SCANNED_BYTES) {
        tooLarge.push(path);
        return;
      }
      const bytes = await readBlob(entry.sha, path);
      if (looksBinary(bytes)) return;
      if (bytes.length > MAX_SCANNED_BYTES) {
        tooLarge.push(path);
        return;
      }
      const text = bytes.toString("utf8");
      const before = base.get(path);
      if (before === undefined || before.type !== "blob") {
        files.push({ path, text });
      } else {
        const old = await readBlob(before.sha, path);
        files.push({ path, text, changedLines: addedLines(old.toString("utf8"), text) });
      }
    };
    const queue = [...candidates];
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_READS, queue.length) }, async () => {
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) await read(path);
      }),
    );
    if (tooLarge.length > 0) {
      tooLarge.sort();
      return verdict(
        [],
        `${tooLarge.length} changed file(s) larger than ${MAX_SCANNED_BYTES} bytes cannot be scanned: ${tooLarge.slice(0, 5).join(", ")}`,
      );
    }
    // Scanned in path order, so findings and annotations come out the same on every run.
    return verdict(files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
  } catch (error) {
    if (error instanceof Unreadable) return verdict([], error.message);
    throw error;
  }
}
