import { FactsError, httpStatus, type GitHub, type RepoRef } from "./octokit.js";
import { ImmutableCache } from "./immutable-cache.js";

/** Files of one commit. Trusted data comes only from the base branch's commit, never the PR head. */
export interface FileSource {
  /** Human name of where files come from, for error messages ("acme/app@1a2b3c4"). */
  readonly label: string;
  /** The file's text, or null when it does not exist. Throws FactsError when it cannot be read. */
  readFile(path: string): Promise<string | null>;
  /** The directory's entries (files only, sorted), or null when it does not exist. */
  listFiles(dir: string): Promise<string[] | null>;
}

type ContentEntry = {
  type: string;
  path: string;
  sha: string;
  encoding?: string;
  content?: string;
  size?: number;
};

/** Contents at a commit SHA never change, so answers are cached by (repo, sha, path). */
const contentsCache = new ImmutableCache<string, ContentEntry | ContentEntry[] | null>(5_000);
const blobCache = new ImmutableCache<string, string>(5_000);

/** Reads files of `owner/repo` at an exact commit SHA through the contents and blobs APIs. */
export function githubFileSource(gh: GitHub, ref: RepoRef, sha: string): FileSource {
  if (!/^[0-9a-f]{40}$/.test(sha))
    throw new FactsError(`refusing to read files at "${sha}": not a commit SHA`);
  const label = `${ref.owner}/${ref.repo}@${sha.slice(0, 7)}`;

  async function contents(path: string): Promise<ContentEntry | ContentEntry[] | null> {
    const key = `${ref.owner}/${ref.repo}@${sha}:${path}`;
    return contentsCache.getOrLoad(key, async () => {
      try {
        const res = await gh.rest.repos.getContent({ owner: ref.owner, repo: ref.repo, path, ref: sha });
        return res.data as ContentEntry | ContentEntry[];
      } catch (error) {
        if (httpStatus(error) === 404) return null;
        throw new FactsError(`cannot read ${path} from ${label}: ${(error as Error).message}`);
      }
    });
  }

  async function blob(blobSha: string, path: string): Promise<string> {
    return blobCache.getOrLoad(`${ref.owner}/${ref.repo}:${blobSha}`, async () => {
      try {
        const res = await gh.rest.git.getBlob({ owner: ref.owner, repo: ref.repo, file_sha: blobSha });
        return Buffer.from(res.data.content, "base64").toString("utf8");
      } catch (error) {
        throw new FactsError(
          `cannot read ${path} (blob ${blobSha}) from ${label}: ${(error as Error).message}`,
        );
      }
    });
  }

  return {
    label,
    async readFile(path) {
      const entry = await contents(path);
      if (entry === null) return null;
      if (Array.isArray(entry) || entry.type !== "file") {
        throw new FactsError(`${path} in ${label} is not a file`);
      }
      // The contents API leaves `content` empty for files over 1 MB; the blobs API serves them.
      if (entry.encoding === "base64" && typeof entry.content === "string" && entry.content.length > 0) {
        return Buffer.from(entry.content, "base64").toString("utf8");
      }
      if (entry.size === 0) return "";
      return blob(entry.sha, path);
    },
    async listFiles(dir) {
      const entry = await contents(dir);
      if (entry === null) return null;
      if (!Array.isArray(entry)) throw new FactsError(`${dir} in ${label} is not a directory`);
      return entry
        .filter((e) => e.type === "file")
        .map((e) => e.path)
        .sort();
    },
  };
}
