/**
 * `pullgate agent`: --once ticks against real repositories; the tree lands in the workdir, --exec runs
 * once per newly verified record, failures keep what runs. One spawned run checks the bin, the loop
 * and graceful SIGTERM.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";
import {
  commitFiles,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  type TestKey,
} from "./helpers.js";

function io(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: process.env, cwd };
}

describe("pullgate agent", () => {
  let root: string;
  let key: TestKey;
  let keys: string;
  beforeAll(async () => {
    root = tempDir("agent");
    key = await makeKey();
    keys = join(root, "public.asc");
    writeFileSync(keys, key.publicKey);
  });
  afterAll(() => removeDir(root));

  function setup(name: string) {
    const dir = join(root, name);
    const { bare, work } = makeRepo(dir);
    const workdir = join(dir, "deploy");
    const state = join(dir, "state.json");
    const log = join(dir, "exec.log");
    // The exec command appends what it saw: proves cwd, env and how often it ran.
    const exec = `echo "$PULLGATE_SEQUENCE $PULLGATE_RECORD_COMMIT $(cat app.yaml)" >> ${log}`;
    const once = async (extra: string[] = []) => {
      const capture = io(dir);
      const code = await main(
        [
          "agent",
          "--once",
          "--json",
          "--repo",
          bare,
          "--environment",
          "production",
          "--keys",
          keys,
          "--state",
          state,
          "--workdir",
          workdir,
          "--exec",
          exec,
          ...extra,
        ],
        capture,
      );
      return {
        code,
        json: JSON.parse(capture.out[0] ?? "null") as Record<string, unknown>,
        err: capture.err.join("\n"),
      };
    };
    const runs = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
    return { bare, work, workdir, state, once, runs, dir };
  }

  it("checks the verified tree out and runs --exec once per new record", async () => {
    const t = setup("happy");
    const s1 = commitFiles(t.work, { "app.yaml": "v1", "README.md": "docs\n" });
    const r1 = await publishRecord(t.bare, key, s1, 1, null);

    const first = await t.once();
    expect(first.err).toMatch(/accepted production #1/);
    expect(first).toMatchObject({
      code: 0,
      json: { verified: true, sequence: 1, recordCommit: r1, deployed: true, changed: true },
    });
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
    expect(lstatSync(t.workdir).isSymbolicLink()).toBe(true);
    expect(t.runs()).toEqual([`1 ${r1} v1`]);

    // No new record: no exec.
    const again = await t.once();
    expect(again).toMatchObject({ code: 0, json: { verified: true, deployed: true, changed: false } });
    expect(t.runs()).toHaveLength(1);

    const s2 = commitFiles(t.work, { "app.yaml": "v2" });
    const r2 = await publishRecord(t.bare, key, s2, 2, r1);
    expect((await t.once()).json).toMatchObject({ sequence: 2, changed: true });
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v2");
    expect(t.runs()).toEqual([`1 ${r1} v1`, `2 ${r2} v2`]);
    // Only the active version is kept beside the workdir.
    expect(readdirSync(join(t.dir, ".deploy.pullgate"))).toEqual([r2]);
    expect(JSON.parse(readFileSync(t.state, "utf8"))).toMatchObject({
      sequence: 2,
      recordCommit: r2,
      deployed: { recordCommit: r2, sequence: 2 },
    });
  });

  it("on a refused record keeps what runs, reports the code, and does not run --exec", async () => {
    const t = setup("refused");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    const r1 = await publishRecord(t.bare, key, s1, 1, null);
    expect((await t.once()).code).toBe(0);
    const s2 = commitFiles(t.work, { "app.yaml": "evil" });
    const mallory = await makeKey("mallory", "m@example.com");
    await publishRecord(t.bare, mallory, s2, 2, r1);
    const refused = await t.once();
    expect(refused).toMatchObject({ code: 1, json: { verified: false, code: "UNKNOWN_KEY" } });
    expect(refused.err).toMatch(/REFUSED UNKNOWN_KEY: .*keeping #1/);
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
    expect(t.runs()).toHaveLength(1);

    // The repository disappears: FETCH_FAILED, exit 2, state and workdir kept.
    const stateBefore = readFileSync(t.state, "utf8");
    removeDir(t.bare);
    const gone = await t.once(["--repository", "acme/deploy"]);
    expect(gone).toMatchObject({ code: 2, json: { verified: false, code: "FETCH_FAILED" } });
    expect(readFileSync(t.state, "utf8")).toBe(stateBefore);
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
  });

  it("shows break-glass and promotion, and with --refuse-break-glass keeps what runs instead of deploying a break-glass record", async () => {
    const t = setup("break-glass");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    const staging = "9".repeat(40);
    const r1 = await publishRecord(t.bare, key, s1, 1, null, {
      promotedFrom: { environment: "staging", sequence: 4, recordCommit: staging },
    });
    const first = await t.once(["--refuse-break-glass"]);
    expect(first).toMatchObject({
      code: 0,
      json: {
        sequence: 1,
        deployed: true,
        promotedFrom: { environment: "staging", sequence: 4, recordCommit: staging },
      },
    });
    expect(first.json).not.toHaveProperty("breakGlass");
    expect(first.err).toMatch(/promoted from staging #4 \(999999999999\)/);

    const s2 = commitFiles(t.work, { "app.yaml": "emergency" });
    const r2 = await publishRecord(t.bare, key, s2, 2, r1, { breakGlass: { approvedBy: ["carol", "dave"] } });
    const refused = await t.once(["--refuse-break-glass"]);
    expect(refused).toMatchObject({ code: 1, json: { verified: false, code: "BREAK_GLASS_REFUSED" } });
    expect(refused.err).toMatch(/REFUSED BREAK_GLASS_REFUSED: .*@carol, @dave.*keeping #1/);
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
    expect(t.runs()).toEqual([`1 ${r1} v1`]);

    // Without the flag the same record deploys, and says so loudly.
    const accepted = await t.once();
    expect(accepted).toMatchObject({
      code: 0,
      json: { sequence: 2, recordCommit: r2, changed: true, breakGlass: { approvedBy: ["carol", "dave"] } },
    });
    expect(accepted.err).toMatch(
      /BREAK-GLASS: passed without the rules it did not satisfy, on the approvals of @carol, @dave/,
    );
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("emergency");
  });

  it("a failing --exec keeps the previous tree in the workdir and is retried next tick", async () => {
    const t = setup("exec-fails");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    const r1 = await publishRecord(t.bare, key, s1, 1, null);
    expect((await t.once()).code).toBe(0);
    const s2 = commitFiles(t.work, { "app.yaml": "v2" });
    const r2 = await publishRecord(t.bare, key, s2, 2, r1);
    const flag = join(t.dir, "fail");
    writeFileSync(flag, "");
    const failing = await t.once([
      "--exec",
      `test ! -e ${flag} && echo "$PULLGATE_SEQUENCE ok" >> ${join(t.dir, "exec.log")}`,
    ]);
    expect(failing).toMatchObject({ code: 1, json: { verified: true, sequence: 2, deployed: false } });
    expect(failing.err).toMatch(/DEPLOY FAILED #2/);
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
    // Accepted (rollback protection) but not deployed.
    expect(JSON.parse(readFileSync(t.state, "utf8"))).toMatchObject({
      sequence: 2,
      recordCommit: r2,
      deployed: { recordCommit: r1 },
    });

    removeDir(flag);
    const retried = await t.once([
      "--exec",
      `echo "$PULLGATE_SEQUENCE retried" >> ${join(t.dir, "exec.log")}`,
    ]);
    expect(retried).toMatchObject({ code: 0, json: { sequence: 2, deployed: true, changed: true } });
    expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v2");
    expect(t.runs().at(-1)).toBe("2 retried");
  });

  it("refuses to take over a non-empty directory or another environment's state", async () => {
    const t = setup("guarded");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    await publishRecord(t.bare, key, s1, 1, null);
    mkdirSync(t.workdir);
    writeFileSync(join(t.workdir, "precious.txt"), "keep me");
    const result = await t.once();
    expect(result).toMatchObject({ code: 1, json: { deployed: false } });
    expect(result.err).toMatch(/not a pullgate-managed workdir/);
    expect(readFileSync(join(t.workdir, "precious.txt"), "utf8")).toBe("keep me");

    writeFileSync(
      t.state,
      JSON.stringify({
        repository: "acme/deploy",
        environment: "staging",
        sequence: 1,
        recordCommit: "a".repeat(40),
        sourceCommit: "a".repeat(40),
        sourceTree: "a".repeat(40),
        acceptedAt: "x",
      }),
    );
    expect((await t.once()).code).toBe(2);
    writeFileSync(t.state, "{ torn");
    const torn = await t.once();
    expect(torn.code).toBe(2);
  });

  it("runs as a loop from the bin and stops gracefully on SIGTERM", async () => {
    const t = setup("loop");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    await publishRecord(t.bare, key, s1, 1, null);
    const bin = resolve(import.meta.dirname, "../../bin/pullgate.js");
    const child = spawn(
      process.execPath,
      [
        bin,
        "agent",
        "--repo",
        `file://${t.bare}`,
        "--environment",
        "production",
        "--keys",
        keys,
        "--state",
        t.state,
        "--workdir",
        t.workdir,
        "--interval",
        "1s",
        "--exec",
        "cat app.yaml",
      ],
      { env: { ...process.env, PULLGATE_FROM_SOURCE: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    const deployed = new Promise<void>((resolveDeployed) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
        if (/deployed #1/.test(stderr)) resolveDeployed();
      });
    });
    await deployed;
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z pullgate agent production: accepted production #1/m);
    expect(stderr).toMatch(/\| v1/);
    expect(stderr).toMatch(/SIGTERM received/);
    expect(stderr).toMatch(/stopped/);
  });
});
