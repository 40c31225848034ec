import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { GitError, runGit } from "./runner.js";
import { CatFile } from "./catfile.js";
import { commitPayload, parseCommit, type CommitInput, type ParsedCommit } from "./objects.js";

export const ZERO_SHA = "0000000000000000000000000000000000000000";
const SHA = /^[0-9a-f]{40}$/;

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  path: string;
  /** Blob size in bytes (undefined for trees and submodules). */
  size?: number;
}

export interface ChangedFile {
  filename: string;
  previous_filename?: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
  additions: number;
  deletions: number;
  changes: number;
  /** Blob sha of the file on the head side (of the base side when removed). */
  sha: string;
  binary: boolean;
}

/**
 * One bare repository and the plumbing the API needs. Commits parse once and are cached by
 * sha (objects are immutable).
 */
export class GitRepo {
  private readonly commitCache = new Map<string, { raw: string; parsed: ParsedCommit }>();
  private readonly patchCache = new Map<string, Map<string, string>>();
  /** Diffs between two commits never change: cached by "base..head" (callers must not mutate). */
  private readonly filesCache = new Map<string, ChangedFile[]>();
  private readonly batch: CatFile;
  private readonly batchCheck: CatFile;

  constructor(readonly path: string) {
    this.batch = new CatFile(path, "--batch");
    this.batchCheck = new CatFile(path, "--batch-check");
  }

  /** Stops the long-lived cat-file processes. */
  close(): void {
    this.batch.close();
    this.batchCheck.close();
  }

  git(args: string[], options: Parameters<typeof runGit>[2] = {}) {
    return runGit(this.path, args, options);
  }

  static async init(path: string, defaultBranch: string): Promise<GitRepo> {
    mkdirSync(dirname(path), { recursive: true });
    await runGit(dirname(path), ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`, path]);
    // http-backend serves receive-pack only with this on when REMOTE_USER is unset; we always set it.
    await runGit(path, ["config", "http.receivepack", "true"]);
    return new GitRepo(path);
  }

  async writeBlob(content: Buffer): Promise<string> {
    return (await this.git(["hash-object", "-t", "blob", "-w", "--stdin"], { input: content })).stdout
      .toString()
      .trim();
  }

  /** Writes a commit object from its exact text (signed or not); returns its sha. */
  async writeCommitText(text: string): Promise<string> {
    return (await this.git(["hash-object", "-t", "commit", "-w", "--stdin"], { input: text })).stdout
      .toString()
      .trim();
  }

  async writeCommit(input: CommitInput): Promise<string> {
    return this.writeCommitText(commitPayload(input));
  }

  /** Builds a tree from full entries (mktree --missing is not used: every object must exist). */
  async mktree(entries: { mode: string; type: string; sha: string; name: string }[]): Promise<string> {
    const input =
      entries.map((e) => `${e.mode} ${e.type} ${e.sha}\t${e.name}`).join("\0") + (entries.length ? "\0" : "");
    return (await this.git(["mktree", "-z"], { input })).stdout.toString().trim();
  }

  /** Object type, or null if it does not exist. */
  async objectType(sha: string): Promise<string | null> {
    if (!SHA.test(sha)) return null;
    return (await this.batchCheck.get(sha))?.type ?? null;
  }

  async readBlob(sha: string): Promise<Buffer | null> {
    if (!SHA.test(sha)) return null;
    const object = await this.batch.get(sha);
    return object?.type === "blob" ? (object.content ?? null) : null;
  }

  async readCommit(sha: string): Promise<{ raw: string; parsed: ParsedCommit } | null> {
    const cached = this.commitCache.get(sha);
    if (cached !== undefined) return cached;
    if (!SHA.test(sha)) return null;
    const object = await this.batch.get(sha);
    if (object?.type !== "commit" || object.content === undefined) return null;
    const raw = object.content.toString("utf8");
    const entry = { raw, parsed: parseCommit(raw) };
    this.commitCache.set(sha, entry);
    return entry;
  }

  /** Entries of a tree (recursive: every blob and subtree, paths relative to the root). */
  async readTree(sha: string, recursive: boolean): Promise<TreeEntry[] | null> {
    if ((await this.objectType(sha)) !== "tree") return null;
    const args = ["ls-tree", "-z", "--long"];
    if (recursive) args.push("-r", "-t");
    args.push(sha);
    const out = (await this.git(args)).stdout.toString("utf8");
    return out
      .split("\0")
      .filter((l) => l !== "")
      .map((line) => {
        const tab = line.indexOf("\t");
        const [mode, type, objectSha, size] = line.slice(0, tab).split(/ +/) as [
          string,
          TreeEntry["type"],
          string,
          string,
        ];
        const entry: TreeEntry = { mode, type, sha: objectSha, path: line.slice(tab + 1) };
        if (type === "blob") entry.size = Number(size);
        return entry;
      });
  }

  /** Resolves a branch, tag, full ref or sha to a commit sha; null if none. */
  async resolveCommit(rev: string): Promise<string | null> {
    if (rev === "" || rev.startsWith("-")) return null;
    if (SHA.test(rev) && (await this.objectType(rev)) === "commit") return rev;
    const candidates = SHA.test(rev)
      ? [rev]
      : [`refs/heads/${rev}`, `refs/tags/${rev}`, rev.startsWith("refs/") ? rev : `refs/${rev}`];
    if (/^[0-9a-f]{7,39}$/.test(rev)) candidates.push(rev);
    for (const candidate of candidates) {
      try {
        const out = await this.git(["rev-parse", "--verify", "--quiet", `${candidate}^{commit}`]);
        return out.stdout.toString().trim();
      } catch {
        /* try the next form */
      }
    }
    return null;
  }

  /** Path inside a commit's tree → entry (null if absent); "" is the root tree. */
  async entryAt(commit: string, path: string): Promise<TreeEntry | null> {
    const parsed = await this.readCommit(commit);
    if (parsed === null) return null;
    if (path === "") return { mode: "040000", type: "tree", sha: parsed.parsed.tree, path: "" };
    const out = (await this.git(["ls-tree", "-z", "--long", commit, "--", path])).stdout.toString("utf8");
    const line = out.split("\0").find((l) => l !== "");
    if (line === undefined) return null;
    const tab = line.indexOf("\t");
    if (line.slice(tab + 1) !== path) return null;
    const [mode, type, sha, size] = line.slice(0, tab).split(/ +/) as [
      string,
      TreeEntry["type"],
      string,
      string,
    ];
    const entry: TreeEntry = { mode, type, sha, path };
    if (type === "blob") entry.size = Number(size);
    return entry;
  }

  /** All refs: name → sha. */
  async refs(prefix = "refs/"): Promise<Map<string, string>> {
    const out = (
      await this.git(["for-each-ref", "--format=%(objectname) %(refname)", prefix])
    ).stdout.toString();
    const refs = new Map<string, string>();
    for (const line of out.split("\n")) {
      if (line === "") continue;
      const space = line.indexOf(" ");
      refs.set(line.slice(space + 1), line.slice(0, space));
    }
    return refs;
  }

  async refSha(ref: string): Promise<string | null> {
    return (await this.refs(ref)).get(ref) ?? null;
  }

  /**
   * Compare-and-swap a ref: `expected` null = must not exist; returns false when the ref moved
   * (or exists / is missing) so the caller can answer 422.
   */
  async updateRef(ref: string, sha: string, expected: string | null): Promise<boolean> {
    try {
      await this.git(["update-ref", ref, sha, expected ?? ZERO_SHA]);
      return true;
    } catch (error) {
      if (error instanceof GitError) return false;
      throw error;
    }
  }

  async deleteRef(ref: string, expected: string): Promise<boolean> {
    try {
      await this.git(["update-ref", "-d", ref, expected]);
      return true;
    } catch (error) {
      if (error instanceof GitError) return false;
      throw error;
    }
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const r = await this.git(["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [1] });
    return r.code === 0;
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const r = await this.git(["merge-base", a, b], { okCodes: [1] });
    return r.code === 0 ? r.stdout.toString().trim() : null;
  }

  /** Commits reachable from `head` but not from `base`, oldest first (GitHub's PR commit order). */
  async commitsBetween(base: string, head: string): Promise<string[]> {
    const out = (
      await this.git(["rev-list", "--reverse", "--topo-order", head, `^${base}`])
    ).stdout.toString();
    return out.split("\n").filter((l) => l !== "");
  }

  /** Three-way merge of two commits without a worktree: the tree, or null on conflict. */
  async mergeTree(ours: string, theirs: string): Promise<string | null> {
    const r = await this.git(["merge-tree", "--write-tree", "--no-messages", ours, theirs], { okCodes: [1] });
    if (r.code !== 0) return null;
    return r.stdout.toString().split("\n")[0]?.trim() ?? null;
  }

  /**
   * The tree of `commit` replayed onto `onto` (a cherry-pick without a worktree: its diff
   * against its first parent applied with a temporary index); null on conflict.
   */
  async replayTree(commit: string, onto: string, tempIndex: string): Promise<string | null> {
    const parsed = await this.readCommit(commit);
    if (parsed === null) return null;
    const parent = parsed.parsed.parents[0];
    const ontoCommit = await this.readCommit(onto);
    if (ontoCommit === null) return null;
    if (parent === onto) return parsed.parsed.tree;
    const env = { GIT_INDEX_FILE: tempIndex };
    await this.git(["read-tree", ontoCommit.parsed.tree], { env });
    const diffArgs =
      parent === undefined
        ? ["diff", "--binary", "--full-index", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", commit]
        : ["diff", "--binary", "--full-index", parent, commit];
    const patch = (await this.git(diffArgs)).stdout;
    if (patch.length > 0) {
      const applied = await this.git(["apply", "--cached", "--3way", "--whitespace=nowarn"], {
        env,
        input: patch,
        okCodes: [1, 128],
      });
      if (applied.code !== 0) return null;
      const unmerged = (await this.git(["ls-files", "--unmerged"], { env })).stdout.toString();
      if (unmerged.trim() !== "") return null;
    }
    return (await this.git(["write-tree"], { env })).stdout.toString().trim();
  }

  /** Files changed between two commits, GitHub's compare/PR-files shape (renames detected). */
  async changedFiles(base: string, head: string): Promise<ChangedFile[]> {
    const key = `${base}..${head}`;
    const cached = this.filesCache.get(key);
    if (cached !== undefined) return cached;
    const files = await this.computeChangedFiles(base, head);
    if (this.filesCache.size > 64) this.filesCache.clear();
    this.filesCache.set(key, files);
    return files;
  }

  private async computeChangedFiles(base: string, head: string): Promise<ChangedFile[]> {
    const raw = (await this.git(["diff", "--raw", "-z", "-M", "--no-abbrev", base, head])).stdout.toString(
      "utf8",
    );
    const numstat = (await this.git(["diff", "--numstat", "-z", "-M", base, head])).stdout.toString("utf8");
    const counts = new Map<string, { add: number; del: number; binary: boolean }>();
    const ntok = numstat.split("\0");
    for (let i = 0; i < ntok.length; i++) {
      const t = ntok[i];
      if (t === undefined || t === "") continue;
      const [a, d, path] = t.split("\t") as [string, string, string];
      let filename = path;
      if (path === "") {
        // rename: "a\td\t\0old\0new"
        i += 2;
        filename = ntok[i] ?? "";
      }
      counts.set(filename, {
        add: a === "-" ? 0 : Number(a),
        del: d === "-" ? 0 : Number(d),
        binary: a === "-",
      });
    }
    const files: ChangedFile[] = [];
    const rtok = raw.split("\0");
    for (let i = 0; i < rtok.length; i++) {
      const meta = rtok[i];
      if (meta === undefined || !meta.startsWith(":")) continue;
      const [, , oldSha, newSha, statusRaw] = meta.slice(1).split(" ") as [
        string,
        string,
        string,
        string,
        string,
      ];
      const code = statusRaw.charAt(0);
      const first = rtok[++i] ?? "";
      let filename = first;
      let previous: string | undefined;
      if (code === "R" || code === "C") {
        previous = first;
        filename = rtok[++i] ?? "";
      }
      const c = counts.get(filename) ?? { add: 0, del: 0, binary: false };
      const status: ChangedFile["status"] =
        code === "A"
          ? "added"
          : code === "D"
            ? "removed"
            : code === "R"
              ? "renamed"
              : code === "C"
                ? "copied"
                : code === "T"
                  ? "changed"
                  : "modified";
      const file: ChangedFile = {
        filename,
        status,
        additions: c.add,
        deletions: c.del,
        changes: c.add + c.del,
        sha: code === "D" ? oldSha : newSha,
        binary: c.binary,
      };
      if (previous !== undefined) file.previous_filename = previous;
      files.push(file);
    }
    return files;
  }

  /**
   * Unified diff hunks per file between two commits (GitHub's `patch` field), from one
   * `git diff` and cached (commits are immutable): listing 3,000 files must not spawn 3,000 gits.
   */
  async patches(base: string, head: string): Promise<Map<string, string>> {
    const key = `${base}..${head}`;
    const cached = this.patchCache.get(key);
    if (cached !== undefined) return cached;
    const out = (await this.git(["diff", "-M", "--no-color", "--no-ext-diff", base, head])).stdout.toString(
      "utf8",
    );
    const patches = new Map<string, string>();
    for (const section of out.split(/^(?=diff --git )/m)) {
      if (!section.startsWith("diff --git ")) continue;
      const plus = /^\+\+\+ (?:b\/(.*)|\/dev\/null)$/m.exec(section);
      const minus = /^--- (?:a\/(.*)|\/dev\/null)$/m.exec(section);
      const rename = /^rename to (.*)$/m.exec(section);
      const name = plus?.[1] ?? rename?.[1] ?? minus?.[1];
      if (name === undefined) continue;
      const at = section.indexOf("\n@@");
      patches.set(name, at === -1 ? "" : section.slice(at + 1).replace(/\n$/, ""));
    }
    if (this.patchCache.size > 64) this.patchCache.clear();
    this.patchCache.set(key, patches);
    return patches;
  }
}
