import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox, type TestUser } from "../src/testing/harness.js";

/** A fast-import stream: one branch off `from` with the given commits (each a set of files). */
function fastImport(branch: string, from: string, commits: Record<string, string>[]): string {
  let stream = "";
  let mark = 0;
  for (const [i, files] of commits.entries()) {
    mark++;
    const message = `commit ${i}`;
    stream += `commit refs/heads/${branch}\nmark :${mark}\ncommitter T <t@x> ${1700000000 + i} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`;
    if (i === 0) stream += `from ${from}\n`;
    for (const [path, content] of Object.entries(files))
      stream += `M 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
    stream += "\n";
  }
  return stream;
}

describe("sandbox: GitHub's listing caps (3,000 PR files, 250 PR commits)", () => {
  let t: TestSandbox;
  let alice: TestUser;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg("acme", "alice");
    await t.createRepo("acme", "big");
    const dir = await t.clone("acme", "big", alice.token);
    const main = (await t.git(dir, ["rev-parse", "HEAD"])).stdout.trim();
    const manyFiles: Record<string, string> = {};
    for (let i = 0; i < 3001; i++) manyFiles[`f/${String(i).padStart(4, "0")}.txt`] = `${i}\n`;
    const manyCommits = Array.from({ length: 251 }, (_, i) => ({ [`c/${i}.txt`]: `${i}\n` }));
    const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
    execFileSync("git", ["fast-import", "--quiet"], {
      cwd: dir,
      env,
      input: fastImport("wide", main, [manyFiles]) + fastImport("long", main, manyCommits),
    });
    expect((await t.push(dir, "refs/heads/wide:refs/heads/wide")).code).toBe(0);
    expect((await t.push(dir, "refs/heads/long:refs/heads/long")).code).toBe(0);
    for (const head of ["wide", "long"])
      await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
        owner: "acme",
        repo: "big",
        title: head,
        head,
        base: "main",
      });
  });
  afterAll(async () => t.close());

  it("lists at most 3,000 files of a 3,001-file PR, while changed_files says 3,001", async () => {
    const files = await alice.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      owner: "acme",
      repo: "big",
      pull_number: 1,
      per_page: 100,
    });
    expect(files).toHaveLength(3000);
    expect(new Set(files.map((f) => f.filename)).size).toBe(3000);
    expect(files[0]?.patch).toBe("@@ -0,0 +1 @@\n+0");
    const pr = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "big",
      pull_number: 1,
    });
    expect(pr.data.changed_files).toBe(3001);
  });

  it("lists at most 250 commits of a 251-commit PR, while commits says 251", async () => {
    const commits = await alice.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
      owner: "acme",
      repo: "big",
      pull_number: 2,
      per_page: 100,
    });
    expect(commits).toHaveLength(250);
    expect(commits[0]?.commit.message).toBe("commit 0");
    const pr = await alice.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner: "acme",
      repo: "big",
      pull_number: 2,
    });
    expect(pr.data.commits).toBe(251);
  });
});
