/**
 * The PR listings fail closed (docs/github-api.md, "Limits"): GitHub caps a PR's file listing at
 * 3,000 and its commit listing at 250, and a listing can race with a push. Before paging, the PR's
 * own counts are checked against the caps; after paging, each listing must have exactly the
 * count the PR reports. The e2e side (through the sandbox) is test/contract/limits.test.ts.
 */
import { describe, expect, it } from "vitest";
import { FactsError, type GitHub } from "./octokit.js";
import { MAX_PR_COMMITS, MAX_PR_FILES, fetchPullSnapshot } from "./pull-facts.js";

const HEAD = "a".repeat(40);
const REPO = { owner: "acme", repo: "gitops" };

interface Fake {
  changedFiles: number;
  commits: number;
  listedFiles: number;
  listedCommits: number;
}

/** A GitHub whose PR reports some counts and whose listings return other lengths. */
function fakeGitHub(f: Fake, base: string): { gh: GitHub; listed: string[] } {
  const listed: string[] = [];
  const pr = {
    head: { sha: HEAD, ref: "topic", repo: { full_name: "acme/gitops" } },
    base: { sha: base, ref: "main" },
    changed_files: f.changedFiles,
    commits: f.commits,
    user: { login: "alice" },
    state: "open",
    draft: false,
  };
  const listFiles = () => undefined;
  const listCommits = () => undefined;
  const listReviews = () => undefined;
  const gh = {
    rest: { pulls: { get: () => Promise.resolve({ data: pr }), listFiles, listCommits, listReviews } },
    paginate: (method: unknown) => {
      if (method === listFiles) {
        listed.push("files");
        return Promise.resolve(Array.from({ length: f.listedFiles }, (_, i) => ({ filename: `f/${i}` })));
      }
      if (method === listCommits) {
        listed.push("commits");
        return Promise.resolve(
          Array.from({ length: f.listedCommits }, (_, i) => ({
            sha: i === f.listedCommits - 1 ? HEAD : `${i}`.padStart(40, "0"),
            parents: [],
            commit: { tree: { sha: "t" }, author: null, committer: null },
            author: null,
            committer: null,
          })),
        );
      }
      return Promise.resolve([]);
    },
  };
  // A structural fake of the few Octokit calls fetchPullSnapshot makes (the full type is Probot's).
  return { gh: gh as unknown as GitHub, listed };
}

async function factsError(f: Fake, base: string): Promise<{ error: FactsError; listed: string[] }> {
  const { gh, listed } = fakeGitHub(f, base);
  const error = await fetchPullSnapshot(gh, REPO, 1, HEAD).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FactsError);
  return { error: error as FactsError, listed };
}

describe("fetchPullSnapshot fails closed on GitHub's listing caps", () => {
  it("more than 3,000 files: refused before any listing is paged, with how to split", async () => {
    const { error, listed } = await factsError(
      { changedFiles: MAX_PR_FILES + 1, commits: 1, listedFiles: MAX_PR_FILES, listedCommits: 1 },
      "b".repeat(40),
    );
    expect(error.message).toContain("changes 3001 files; GitHub lists at most 3000");
    expect(error.fix).toContain("Split it");
    expect(listed).toEqual([]);
  });

  it("more than 250 commits: refused before any listing is paged, with how to squash", async () => {
    const { error, listed } = await factsError(
      { changedFiles: 1, commits: MAX_PR_COMMITS + 1, listedFiles: 1, listedCommits: MAX_PR_COMMITS },
      "c".repeat(40),
    );
    expect(error.message).toContain("has 251 commits; GitHub lists at most 250");
    expect(error.fix).toContain("Squash or split");
    expect(listed).toEqual([]);
  });

  it("a file listing shorter than the PR's count (truncated, or raced by a push) is not evaluated", async () => {
    const { error } = await factsError(
      { changedFiles: 120, commits: 1, listedFiles: 100, listedCommits: 1 },
      "d".repeat(40),
    );
    expect(error.message).toContain("GitHub listed 100 files but the pull request reports 120");
  });

  it("a commit listing shorter than the PR's count is not evaluated", async () => {
    const { error } = await factsError(
      { changedFiles: 1, commits: 120, listedFiles: 1, listedCommits: 100 },
      "e".repeat(40),
    );
    expect(error.message).toContain("GitHub listed 100 commits but the pull request reports 120");
  });
});
