import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import { startTestSandbox, type TestSandbox, type TestUser } from "@pullgate/sandbox";
import { ORG_POLICY, writeFiles } from "./harness.js";

const ORG = "acme";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function io(env: Record<string, string | undefined>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), env, cwd: process.cwd() };
}

interface AuditJson {
  org: string;
  requests: number;
  repositories: {
    repo: string;
    status: string;
    branches: {
      branch: string;
      environment: string;
      status: string;
      drift: { setting: string; expected: string; actual: string }[];
      fix?: { fixed: boolean; before: unknown[] };
    }[];
    approvedRefs: { status: string; refs: { ref: string; status: string }[] };
  }[];
}

describe("pullgate audit (CLI) on the sandbox", () => {
  let t: TestSandbox;
  let alice: TestUser;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestSandbox();
    alice = await t.createUser("alice");
    await t.createOrg(ORG, "alice");
    await t.createRepo(ORG, ".github");
    await writeFiles(t, ORG, ".github", alice.token, { ".github/pullgate.yml": ORG_POLICY });
    await t.createRepo(ORG, "deploy");
    // An org owner's token, as an operator would use.
    env = {
      GITHUB_TOKEN: alice.token,
      GITHUB_API_URL: t.sandbox.apiUrl,
      PULLGATE_APP_ID: String(t.sandbox.app.id),
    };
  }, 60_000);
  afterAll(async () => t?.close());

  it("prints the drift as JSON and exits 1, then --fix applies the policy and exits 0", async () => {
    const before = io(env);
    expect(await main(["audit", "--org", ORG, "--repo", "deploy", "--json"], before)).toBe(1);
    expect(before.out).toHaveLength(1);
    const report = JSON.parse(before.out[0]!) as AuditJson;
    expect(report.org).toBe(ORG);
    expect(report.requests).toBeGreaterThan(0);
    expect(report.repositories).toHaveLength(1);
    const repo = report.repositories[0]!;
    expect(repo).toMatchObject({ repo: `${ORG}/deploy`, status: "drift" });
    expect(repo.branches[0]).toMatchObject({ branch: "main", environment: "production", status: "drift" });
    expect(repo.branches[0]!.drift).toContainEqual({
      setting: "pull_request",
      expected: "required",
      actual: "not required",
      fix: expect.stringContaining("Require a pull request before merging"),
    });
    expect(repo.approvedRefs).toMatchObject({
      status: "drift",
      refs: [{ ref: "approved/production", status: "drift" }],
    });

    const fixing = io(env);
    expect(await main(["audit", "--org", ORG, "--repo", "deploy", "--fix", "--json"], fixing)).toBe(0);
    const fixed = JSON.parse(fixing.out[0]!) as AuditJson;
    expect(fixed.repositories[0]!.status).toBe("ok");
    expect(fixed.repositories[0]!.branches[0]!.fix?.fixed).toBe(true);
    expect(fixed.repositories[0]!.branches[0]!.fix?.before.length).toBeGreaterThan(0);

    const after = io(env);
    expect(await main(["audit", "--org", ORG, "--repo", "deploy"], after)).toBe(0);
    expect(after.out.join("\n")).toMatch(/acme\/deploy: ok/);
  }, 60_000);

  it("audits the whole org as a text table", async () => {
    const run = io(env);
    expect(await main(["audit", "--org", ORG], run)).toBe(1);
    const text = run.out.join("\n");
    expect(text).toMatch(/^acme\/\.github: drift$/m);
    expect(text).toMatch(/^ {2}main -> production \[audit\] +drift$/m);
    expect(text).toMatch(/^ {6}pull_request: expected required; actual not required$/m);
    expect(text).toMatch(/^acme\/deploy: ok$/m);
    expect(text).toMatch(/acme: 2 repositories \(1 drift, 1 ok\); \d+ API requests/);
    expect(run.err.join("\n")).toContain("1 of 2 repositories short of the policy or not checked");
  }, 60_000);

  it("exits 2 on usage and I/O errors: no token, no org, bad numbers, unknown app, unknown org", async () => {
    const noToken = io({ GITHUB_API_URL: t.sandbox.apiUrl });
    expect(await main(["audit", "--org", ORG], noToken)).toBe(2);
    expect(noToken.err.join("")).toContain("GITHUB_TOKEN is not set");

    expect(await main(["audit"], io(env))).toBe(2);
    expect(await main(["audit", "--org", ORG, "--concurrency", "0"], io(env))).toBe(2);
    expect(await main(["audit", "--org", ORG, "stray"], io(env))).toBe(2);

    // Without an app id the app is looked up by slug; an unknown app is a usage error, never a guess.
    const noApp = io({ GITHUB_TOKEN: alice.token, GITHUB_API_URL: t.sandbox.apiUrl });
    expect(await main(["audit", "--org", ORG, "--app-slug", "no-such-app"], noApp)).toBe(2);
    expect(noApp.err.join("")).toContain("--app-id");

    const unknownOrg = io(env);
    expect(await main(["audit", "--org", "nope"], unknownOrg)).toBe(2);
    expect(unknownOrg.err.join("")).toContain("cannot read the repositories of nope");
  }, 60_000);

  it("runs as the installed bin (spawned, from source)", async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["bin/pullgate.js", "audit", "--org", ORG, "--repo", "deploy", "--json"],
        { cwd: ROOT, env: { ...process.env, ...env, PULLGATE_FROM_SOURCE: "1" } },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number(error.code ?? 1) : 0,
            stdout: stdout.toString(),
            stderr: stderr.toString(),
          }),
      );
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as AuditJson).repositories[0]?.status).toBe("ok");
  }, 60_000);
});
