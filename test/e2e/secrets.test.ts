/**
 * End-to-end: the no-plaintext-secrets rule (docs/policy.md, "secrets") through the real Probot
 * server and the sandbox. A plaintext Kubernetes Secret fails with an annotation at its line and no
 * byte of the value anywhere GitHub or the logs could show it; SOPS passes; the base policy's
 * allow-list and `enabled: false` are honoured, and a PR cannot switch the rule off for itself.
 */
import fs from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { basePolicy, ORG, REPO, startAppHarness, type AppHarness } from "../helpers/app-harness.js";
import { decisionOf, readable } from "../helpers/check-text.js";
import { MAX_READ_FILES } from "../../src/github/secret-facts.js";

/** The plaintext credential every failing scenario plants (and must never see echoed). */
const PASSWORD = "Tr0ub4dor-and-3-horses-9q7x";
const PASSWORD_B64 = Buffer.from(PASSWORD).toString("base64");

const plaintextSecret = (name: string) =>
  [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata: {name: settings}",
    "data: {mode: fast}",
    "---",
    "apiVersion: v1",
    "kind: Secret",
    `metadata: {name: ${name}}`,
    "type: Opaque",
    "data:",
    `  password: ${PASSWORD_B64}`,
    "",
  ].join("\n");

const enc = (data: string) => `ENC[AES256_GCM,data:${data},iv:q8R2mZ0pQ1s=,tag:Zk3Yl9yX0bXw==,type:str]`;
const SOPS_SECRET = [
  "apiVersion: v1",
  "kind: Secret",
  "metadata: {name: db}",
  "stringData:",
  `  password: ${enc("c2VjcmV0Cg==")}`,
  "sops:",
  "  kms: []",
  `  mac: ${enc("bWFj")}`,
  "  lastmodified: '2026-01-01T00:00:00Z'",
  "  version: 3.9.0",
  "",
].join("\n");

/** main allows /fixtures/, the playground branch turns the rule off. */
const POLICY = basePolicy(
  [
    "    secrets:",
    "      allow: [/fixtures/]",
    "  - branch: playground",
    "    environment: playground",
    "    secrets:",
    "      enabled: false",
    "",
  ].join("\n"),
);

/** A file already on main with a plaintext Secret: a PR touching another line of it is not blamed. */
const LEGACY = [
  "apiVersion: v1",
  "kind: Secret",
  "metadata: {name: legacy}",
  "stringData:",
  "  token: Legacy-Value-Already-In-Git-41x",
  "---",
  "apiVersion: v1",
  "kind: ConfigMap",
  "metadata: {name: legacy-settings}",
  "data: {replicas: '1'}",
  "",
].join("\n");

const TREES = "GET /repos/{owner}/{repo}/git/trees/{tree_sha}";
const BLOBS = "GET /repos/{owner}/{repo}/git/blobs/{file_sha}";

describe("e2e: no plaintext secrets in the GitOps repository", () => {
  let h: AppHarness;
  /** Everything the app's logger wrote (pino writes to fd 1 through node:fs). */
  const logged: string[] = [];

  beforeAll(async () => {
    // Capture and silence the app's logs at debug level: they are part of what must not leak.
    const capture =
      (original: (...args: never[]) => unknown) =>
      (...args: unknown[]) => {
        const [fd, data] = args;
        if (fd === 1 || fd === 2) {
          logged.push(typeof data === "string" ? data : Buffer.from(data as Uint8Array).toString("utf8"));
          const callback = args.find((a) => typeof a === "function") as
            ((err: null, written: number) => void) | undefined;
          const length = typeof data === "string" ? Buffer.byteLength(data) : (data as Uint8Array).length;
          if (callback) queueMicrotask(() => callback(null, length));
          return length;
        }
        return (original as (...a: unknown[]) => unknown)(...args);
      };
    const [write, writeSync] = [capture(fs.write), capture(fs.writeSync)];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node:fs overloads differ; the wrapper forwards every argument unchanged
    vi.spyOn(fs, "write").mockImplementation(write as any);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    vi.spyOn(fs, "writeSync").mockImplementation(writeSync as any);
    h = await startAppHarness({
      policy: POLICY,
      logLevel: "debug",
      seedFiles: () => ({ "apps/legacy.yaml": LEGACY }),
    });
  });
  afterAll(async () => {
    await h?.close();
    vi.restoreAllMocks();
  });

  const secretsRuleOf = (check: Parameters<typeof decisionOf>[0]) =>
    decisionOf(check).rules.find((r) => r.id === "secrets")?.status;

  const annotationsOf = async (checkRunId: number) => {
    const { data } = await h.people.olivia.octokit.request(
      "GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
      { owner: ORG, repo: REPO, check_run_id: checkRunId, per_page: 100 },
    );
    return data;
  };

  it("1. a plaintext Kubernetes Secret fails, annotated at its line, and the value appears nowhere", async () => {
    const { alice, olivia } = h.people;
    h.t.sandbox.instrumentation.resetCounts();
    const pr = await h.openPull(alice, "secret-1-plaintext", {
      "apps/db/secret.yaml": plaintextSecret("db"),
    });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(secretsRuleOf(check)).toBe("fail");
    // Everything else passed: the secret alone blocks the merge.
    expect(
      decisionOf(check)
        .rules.filter((r) => r.status !== "pass")
        .map((r) => r.id),
    ).toEqual(["secrets"]);
    expect(readable(check)).toContain("1 plaintext credential(s) in 1 file(s).");
    if (!check) throw new Error("no check");
    const annotations = await annotationsOf(check.id);
    expect(annotations.map((a) => [a.path, a.start_line, a.end_line, a.annotation_level, a.title])).toEqual([
      ["apps/db/secret.yaml", 11, 11, "failure", "Plaintext secret (kubernetes-secret)"],
    ]);
    expect(annotations[0]?.message).toContain("password");
    // Request cost: two tree listings and one blob for the one added file (docs/github-api.md),
    // once for the head: the review's re-evaluation reads them from the cache.
    expect(h.t.sandbox.instrumentation.count(TREES)).toBe(2);
    expect(h.t.sandbox.instrumentation.count(BLOBS)).toBe(1);

    const everything = JSON.stringify([check, annotations, logged.join("")]);
    expect(logged.join("").length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, PASSWORD_B64]) expect(everything).not.toContain(secret);
  });

  it("2. a SOPS-encrypted Secret passes, and with an approval the whole check is green", async () => {
    const { alice, olivia } = h.people;
    const pr = await h.openPull(alice, "secret-2-sops", { "apps/db/secret.enc.yaml": SOPS_SECRET });
    await h.review(olivia, pr.number, "APPROVE");
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("pass");
    expect(check?.conclusion).toBe("success");
    expect(readable(check)).toContain("No plaintext credential in 1 changed file(s).");
    if (!check) throw new Error("no check");
    expect(await annotationsOf(check.id)).toEqual([]);
  });

  it("3. the base policy's allow-list lets a fixture path pass, and the check names it", async () => {
    const { alice } = h.people;
    const pr = await h.openPull(alice, "secret-3-allowed", {
      "fixtures/secret.yaml": plaintextSecret("fixture"),
      "apps/web/deploy.yaml": "replicas: 2\n",
    });
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("pass");
    expect(readable(check)).toContain("Not scanned (secrets.allow): fixtures/secret.yaml.");
  });

  it("4. `enabled: false` on a branch turns the rule off there", async () => {
    const { alice, olivia } = h.people;
    const dir = await h.clone(olivia);
    expect((await h.world.push(dir, "HEAD:refs/heads/playground")).code).toBe(0);
    await h.settle();
    const pr = await h.openPull(
      alice,
      "secret-4-playground",
      { "apps/db/secret.yaml": plaintextSecret("db") },
      { base: "playground" },
    );
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("pass");
    expect(readable(check)).toContain("Secret scanning is off for this branch (secrets.enabled: false).");
  });

  it("5. attack: a PR that switches the rule off in its own policy is still judged by the base policy", async () => {
    const { alice } = h.people;
    const disabled = POLICY.replace("      allow: [/fixtures/]", "      enabled: false");
    expect(disabled).not.toBe(POLICY);
    const pr = await h.openPull(alice, "secret-5-disable", {
      ".github/pullgate.yml": disabled,
      "apps/db/secret.yaml": plaintextSecret("db"),
    });
    const check = await h.check(pr.headSha);
    expect(check?.conclusion).toBe("failure");
    expect(secretsRuleOf(check)).toBe("fail");
    if (!check) throw new Error("no check");
    expect((await annotationsOf(check.id)).map((a) => [a.path, a.start_line])).toEqual([
      ["apps/db/secret.yaml", 11],
    ]);
  });

  it("6. only the lines a PR adds are judged: editing beside a Secret already on main is not blamed", async () => {
    const { alice } = h.people;
    h.t.sandbox.instrumentation.resetCounts();
    const pr = await h.openPull(alice, "secret-6-legacy", {
      "apps/legacy.yaml": LEGACY.replace("replicas: '1'", "replicas: '3'"),
    });
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("pass");
    // A modified file costs its base blob too: two blobs. main has not moved since the earlier
    // PRs, so its tree listing comes from the cache and only the head's is listed.
    expect(h.t.sandbox.instrumentation.count(TREES)).toBe(1);
    expect(h.t.sandbox.instrumentation.count(BLOBS)).toBe(2);
    // ...but a new plaintext value on a line of its own is this PR's.
    const worse = await h.openPull(alice, "secret-6b-legacy", {
      "apps/legacy.yaml": LEGACY.replace("Legacy-Value-Already-In-Git-41x", "Fresh-Value-Never-In-Git-77k"),
    });
    const failing = await h.check(worse.headSha);
    expect(secretsRuleOf(failing)).toBe("fail");
    if (!failing) throw new Error("no check");
    expect((await annotationsOf(failing.id)).map((a) => [a.path, a.start_line])).toEqual([
      ["apps/legacy.yaml", 5],
    ]);
  });

  it("7. more than 50 findings arrive as annotations in batches of 50 (GitHub's per-request cap)", async () => {
    const { alice } = h.people;
    const keys = Array.from({ length: 60 }, (_, i) => `  key${i}: Plain-Value-${i}-zq8w3k`);
    const pr = await h.openPull(alice, "secret-7-many", {
      "apps/many/secret.yaml": ["apiVersion: v1", "kind: Secret", "stringData:", ...keys, ""].join("\n"),
    });
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("fail");
    if (!check) throw new Error("no check");
    const annotations = await annotationsOf(check.id);
    expect(annotations.map((a) => a.start_line)).toEqual(Array.from({ length: 60 }, (_, i) => i + 4));
    for (const a of annotations) expect(a.message).not.toMatch(/Plain-Value/);
  });

  it("8. removed files and binary files are not read; the removal alone passes", async () => {
    const { alice } = h.people;
    const dir = await h.clone(alice);
    fs.rmSync(join(dir, "apps/legacy.yaml"));
    await h.commit(dir, alice, { "apps/logo.png": "\u0000PNG binary-ish" }, "remove legacy, add a logo");
    expect((await h.world.push(dir, "HEAD:refs/heads/secret-8-remove")).code).toBe(0);
    h.t.sandbox.instrumentation.resetCounts();
    const { data } = await alice.octokit.request("POST /repos/{owner}/{repo}/pulls", {
      owner: ORG,
      repo: REPO,
      title: "remove legacy",
      head: "secret-8-remove",
      base: "main",
    });
    const check = await h.check(data.head.sha);
    expect(secretsRuleOf(check)).toBe("pass");
    expect(h.t.sandbox.instrumentation.count(BLOBS)).toBe(0);
  });

  it("9. fail closed: a blob GitHub will not serve makes the rule an error with the reason, never a pass", async () => {
    const { alice, olivia } = h.people;
    h.t.sandbox.instrumentation.setFault(BLOBS, { status: 502 });
    try {
      const pr = await h.openPull(alice, "secret-9-unreadable", { "apps/web/values.yaml": "replicas: 4\n" });
      await h.review(olivia, pr.number, "APPROVE");
      const check = await h.check(pr.headSha);
      expect(check?.conclusion).toBe("failure");
      expect(secretsRuleOf(check)).toBe("error");
      expect(readable(check)).toContain("cannot read apps/web/values.yaml (blob ");
    } finally {
      h.t.sandbox.instrumentation.clearFaults();
    }
  });

  it("10. fail closed: more changed files than the rule reads per evaluation is an error, and none is read", async () => {
    const { alice } = h.people;
    const files: Record<string, string> = {};
    for (let i = 0; i <= MAX_READ_FILES; i++) files[`apps/many-${i}/values.yaml`] = `replicas: ${i}\n`;
    h.t.sandbox.instrumentation.resetCounts();
    const pr = await h.openPull(alice, "secret-10-wide", files);
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("error");
    expect(readable(check)).toContain(
      `the pull request changes ${MAX_READ_FILES + 1} files that may hold text; pullgate reads at most ${MAX_READ_FILES}`,
    );
    expect(h.t.sandbox.instrumentation.count(BLOBS)).toBe(0);
    expect(h.t.sandbox.instrumentation.count(TREES)).toBe(0);
  }, 120_000);

  it("11. attack: copying an allow-listed fixture's secret into a scanned path is judged like a new file", async () => {
    const { alice, olivia } = h.people;
    const fixture = plaintextSecret("copied");
    const seeded = await h.openPull(alice, "secret-11-fixture", { "fixtures/copied.yaml": fixture });
    await h.review(olivia, seeded.number, "APPROVE");
    expect((await h.check(seeded.headSha))?.conclusion).toBe("success");
    await h.world.merge(olivia, seeded.number);
    const pr = await h.openPull(alice, "secret-11-copy", { "apps/copied.yaml": fixture });
    const check = await h.check(pr.headSha);
    expect(secretsRuleOf(check)).toBe("fail");
  });
});
