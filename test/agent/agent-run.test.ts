/**
 * `pullgate agent` as a long-running process (issue 15, docs/agents.md "Running the agent"): the same
 * tree is nothing new to deploy, state has a default home, git and --exec are bounded, the shutdown
 * contract holds with real processes, a failing --exec backs off, logs are one line per event and
 * outcomes are metrics.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { GitCache } from "../../src/agent/git.js";
import {
  commitFiles,
  git,
  makeKey,
  makeRepo,
  publishRecord,
  removeDir,
  tempDir,
  type TestKey,
} from "../record/helpers.js";
import { alive, fileExists, readPid, spawnAgent, until } from "./spawned.js";

function io(cwd: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: process.env, cwd };
}

/** A loopback peer that accepts connections and never answers (a stalled mirror or proxy). */
async function silentPeer(): Promise<{ server: Server; port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { server, port: address.port, connections: () => sockets.length };
}

describe("pullgate agent, long-running", () => {
  let root: string;
  let key: TestKey;
  let keys: string;
  beforeAll(async () => {
    root = tempDir("agent-run");
    key = await makeKey();
    keys = join(root, "public.asc");
    writeFileSync(keys, key.publicKey);
  });
  afterAll(() => removeDir(root));

  function setup(name: string) {
    const dir = join(root, name);
    const { bare, work } = makeRepo(dir);
    const workdir = join(dir, "deploy");
    const log = join(dir, "exec.log");
    const exec = `echo "$PULLGATE_SEQUENCE $(cat app.yaml)" >> ${log}`;
    const base = ["--repo", bare, "--environment", "production", "--keys", keys, "--workdir", workdir];
    const once = async (extra: string[] = []) => {
      const capture = io(dir);
      const code = await main(["agent", "--once", "--json", ...base, "--exec", exec, ...extra], capture);
      return {
        code,
        json: JSON.parse(capture.out[0] ?? "null") as Record<string, unknown>,
        err: capture.err.join("\n"),
        lines: capture.err,
      };
    };
    const runs = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
    const defaultState = join(dir, ".deploy.pullgate", "state.json");
    return { dir, bare, work, workdir, once, runs, base, defaultState };
  }

  describe("a record with the tree that runs is proof of freshness, not a deploy", () => {
    it("a refresh-like record (same source, sequence + 1): accepted, no checkout, no --exec", async () => {
      const t = setup("same-tree");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      const r1 = await publishRecord(t.bare, key, s1, 1, null);
      expect((await t.once()).json).toMatchObject({ sequence: 1, changed: true });
      expect(t.runs()).toEqual(["1 v1"]);
      const active = readdirSync(join(t.dir, ".deploy.pullgate")).filter((e) => /^[0-9a-f]{40}$/.test(e));

      const r2 = await publishRecord(t.bare, key, s1, 2, r1);
      const refresh = await t.once();
      expect(refresh).toMatchObject({
        code: 0,
        json: {
          verified: true,
          sequence: 2,
          recordCommit: r2,
          deployed: true,
          changed: false,
          outcome: "unchanged-tree",
        },
      });
      expect(refresh.err).toMatch(/nothing new to deploy: #2 .* has the tree of #1 .*no checkout, no --exec/);
      expect(t.runs()).toEqual(["1 v1"]);
      // No checkout: the workdir still shows the version folder of #1.
      expect(readdirSync(join(t.dir, ".deploy.pullgate")).filter((e) => /^[0-9a-f]{40}$/.test(e))).toEqual(
        active,
      );
      // The state advanced: a rollback to #1 is now refused.
      expect(JSON.parse(readFileSync(t.defaultState, "utf8"))).toMatchObject({
        sequence: 2,
        recordCommit: r2,
        deployed: { recordCommit: r2, sequence: 2, sourceTree: s1.tree },
      });
      git(["update-ref", "refs/heads/approved/production", r1], { cwd: t.bare });
      expect((await t.once()).json).toMatchObject({ verified: false, code: "SEQUENCE_NOT_INCREASING" });
      git(["update-ref", "refs/heads/approved/production", r2], { cwd: t.bare });

      // Any record with that tree, not only a refresh: an empty commit on main (same tree, new source).
      git(["commit", "-q", "--allow-empty", "-m", "empty"], { cwd: t.work });
      git(["push", "-q", "origin", "main"], { cwd: t.work });
      const s3 = {
        commit: git(["rev-parse", "HEAD"], { cwd: t.work }).trim(),
        tree: git(["rev-parse", "HEAD^{tree}"], { cwd: t.work }).trim(),
      };
      expect(s3.tree).toBe(s1.tree);
      const r3 = await publishRecord(t.bare, key, s3, 3, r2);
      expect((await t.once()).json).toMatchObject({ recordCommit: r3, outcome: "unchanged-tree" });
      expect(t.runs()).toEqual(["1 v1"]);

      // A new tree is deployed as usual.
      const s4 = commitFiles(t.work, { "app.yaml": "v4" });
      await publishRecord(t.bare, key, s4, 4, r3);
      expect((await t.once()).json).toMatchObject({ sequence: 4, outcome: "deployed", changed: true });
      expect(t.runs()).toEqual(["1 v1", "4 v4"]);
    });

    it("a state file without deployed.sourceTree (older agent) reads the tree from the record; a missing workdir is redeployed", async () => {
      const t = setup("same-tree-legacy");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      const r1 = await publishRecord(t.bare, key, s1, 1, null);
      expect((await t.once()).code).toBe(0);
      const state = JSON.parse(readFileSync(t.defaultState, "utf8")) as { deployed: Record<string, unknown> };
      delete state.deployed["sourceTree"];
      writeFileSync(t.defaultState, JSON.stringify(state));
      const r2 = await publishRecord(t.bare, key, s1, 2, r1);
      expect((await t.once()).json).toMatchObject({ recordCommit: r2, outcome: "unchanged-tree" });
      expect(t.runs()).toEqual(["1 v1"]);

      // Someone removed the workdir: the same tree must be checked out and applied again.
      rmSync(t.workdir);
      const r3 = await publishRecord(t.bare, key, s1, 3, r2);
      expect((await t.once()).json).toMatchObject({ recordCommit: r3, outcome: "deployed" });
      expect(t.runs()).toEqual(["1 v1", "3 v1"]);
      expect(lstatSync(t.workdir).isSymbolicLink()).toBe(true);
    });
  });

  it("state defaults to .<workdir>.pullgate/state.json, survives new versions, and a first start warns loudly", async () => {
    const t = setup("default-state");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    const r1 = await publishRecord(t.bare, key, s1, 1, null);
    const first = await t.once();
    expect(first.code).toBe(0);
    expect(first.err).toMatch(
      /max-age 50h \(default: 2 × refresh interval 24h \+ 2h\); state .*\.deploy\.pullgate\/state\.json/,
    );
    expect(first.err).toMatch(
      /WARNING: FIRST START: no state file at .*state\.json.*not an emptyDir.*older than 50h is still refused/,
    );
    expect(JSON.parse(readFileSync(t.defaultState, "utf8"))).toMatchObject({ sequence: 1, recordCommit: r1 });

    const s2 = commitFiles(t.work, { "app.yaml": "v2" });
    await publishRecord(t.bare, key, s2, 2, r1);
    const second = await t.once();
    expect(second.json).toMatchObject({ sequence: 2, outcome: "deployed" });
    expect(second.err).not.toMatch(/FIRST START/);
    // Activating #2 removed the old version, not the state or the cache beside it.
    expect(JSON.parse(readFileSync(t.defaultState, "utf8"))).toMatchObject({ sequence: 2 });
    expect(existsSync(`${t.defaultState}.git`)).toBe(true);

    // The state file is lost (an emptyDir re-created): the rollback to #1 goes through, with the warning.
    rmSync(t.defaultState);
    git(["update-ref", "refs/heads/approved/production", r1], { cwd: t.bare });
    const lost = await t.once(["--max-age", "none"]);
    expect(lost.err).toMatch(/FIRST START.*with --max-age none ANY older genuine record could be served now/);
    expect(lost.err).toMatch(/WARNING: --max-age none/);
  });

  it("a multi-line git error is one log line (text and json)", async () => {
    const t = setup("one-line");
    for (const format of ["text", "json"]) {
      const result = await t.once([
        "--repo",
        join(t.dir, "nowhere"),
        "--repository",
        "acme/deploy",
        "--log-format",
        format,
      ]);
      expect(result.code).toBe(2);
      const refused = result.lines.filter((l) => /REFUSED FETCH_FAILED/.test(l));
      expect(refused).toHaveLength(1);
      // git says this over several lines; the event is still one physical line.
      expect(refused[0]).toMatch(
        /does not appear to be a git repository.*Could not read from remote repository/,
      );
      for (const line of result.lines) expect(line).not.toMatch(/\n/);
      if (format === "json") {
        for (const line of result.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
        expect(JSON.parse(refused[0] ?? "")).toMatchObject({
          level: "error",
          event: "refused",
          code: "FETCH_FAILED",
          environment: "production",
        });
      }
    }
  });

  describe("--exec is bounded", () => {
    it("an --exec that exits 0 but leaves a background child holding stdout does not block the tick", async () => {
      const t = setup("exec-background");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      const pidFile = join(t.dir, "background.pid");
      // The background child keeps the inherited stdout open for 10 minutes, past the test timeout.
      const result = await t.once(["--exec", `sleep 600 & echo $! > ${pidFile}; echo applied`]);
      try {
        expect(result).toMatchObject({ code: 0, json: { outcome: "deployed" } });
        expect(result.err).toMatch(/\| applied/);
      } finally {
        if (existsSync(pidFile)) process.kill(readPid(pidFile), "SIGKILL");
      }
    });

    it("--exec-timeout kills the whole --exec group; the workdir keeps what ran", async () => {
      const t = setup("exec-timeout");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      const pidFile = join(t.dir, "child.pid");
      const result = await t.once([
        "--exec-timeout",
        "2s",
        "--exec",
        `sleep 600 & echo $! > ${pidFile}; wait`,
      ]);
      expect(result).toMatchObject({
        code: 1,
        json: { verified: true, deployed: false, outcome: "deploy-failed" },
      });
      expect(result.err).toMatch(/DEPLOY FAILED #1: --exec timed out after 2s/);
      expect(existsSync(t.workdir)).toBe(false);
      // The grandchild was in the --exec's group: killed too, not left behind.
      const pid = readPid(pidFile);
      await until(() => !alive(pid));
      expect((await t.once(["--exec-timeout", "soon"])).code).toBe(2);
    });
  });

  describe("a stalled network does not freeze the agent", () => {
    let peer: Awaited<ReturnType<typeof silentPeer>>;
    beforeAll(async () => {
      peer = await silentPeer();
    });
    afterAll(() => new Promise<void>((r) => peer.server.close(() => r())));

    it("git's low-speed limit ends a fetch from a peer that accepts and never answers", async () => {
      const cache = new GitCache(join(root, "low-speed.git"), process.env, {
        timeoutMs: 10 * 60_000,
        lowSpeedLimit: 1000,
        lowSpeedTimeSeconds: 1,
      });
      await cache.init();
      await expect(
        cache.fetchApproved(`http://127.0.0.1:${peer.port}/acme/deploy.git`, "production"),
      ).rejects.toThrow(/git fetch failed: .*(too slow|Operation timed out)/i);
    });

    it("the loop logs a fetch failure within --git-timeout, keeps what runs, and honours SIGTERM at once", async () => {
      const t = setup("stalled");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      expect((await t.once()).code).toBe(0);
      const url = `http://127.0.0.1:${peer.port}/acme/deploy.git`;

      const bounded = spawnAgent([...t.base, "--repo", url, "--interval", "1s", "--git-timeout", "2s"]);
      try {
        await bounded.waitFor(/REFUSED FETCH_FAILED: .*git fetch timed out after 2s \(killed\).*keeping #1/);
        expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
      } finally {
        bounded.child.kill("SIGTERM");
      }
      expect((await bounded.exited).code).toBe(2); // the last outcome: a fetch failure

      // Default deadline (5 minutes): SIGTERM during the stalled fetch kills git and stops the agent.
      const before = peer.connections();
      const stuck = spawnAgent([...t.base, "--repo", url, "--interval", "1s"]);
      await until(() => peer.connections() > before);
      await stuck.waitFor(/watching/);
      stuck.child.kill("SIGTERM");
      const exit = await stuck.exited;
      expect(exit).toEqual({ code: 0, signal: null }); // nothing completed: no outcome to report
      expect(stuck.stderr()).toMatch(/SIGTERM received; stopping/);
      expect(stuck.stderr()).toMatch(/stopped/);
    });
  });

  describe("the shutdown contract, with real processes", () => {
    /** An --exec that says it started, records its pids, and runs until GO exists. */
    function slowExec(dir: string) {
      const started = join(dir, "started");
      const go = join(dir, "go");
      const child = join(dir, "child.pid");
      return {
        started,
        go,
        child,
        command:
          `sleep 600 & echo $! > ${child}; echo started > ${started}; ` +
          `while [ ! -e ${go} ]; do sleep 0.05; done; kill $!; echo finished`,
      };
    }

    it("SIGTERM to the agent's whole group does not hit --exec: it finishes and is deployed", async () => {
      const t = setup("shutdown-finish");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      const e = slowExec(t.dir);
      const agent = spawnAgent([...t.base, "--interval", "1s", "--exec", e.command]);
      await until(fileExists(e.started));
      agent.signalGroup("SIGTERM");
      await agent.waitFor(/SIGTERM received; stopping: a running --exec gets 20s to finish/);
      writeFileSync(e.go, "");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(agent.stderr()).toMatch(/\| finished/);
      expect(agent.stderr()).toMatch(/deployed #1/);
      expect(readFileSync(join(t.workdir, "app.yaml"), "utf8")).toBe("v1");
    });

    it("past --shutdown-grace the --exec group is killed and waited for; exit 1", async () => {
      const t = setup("shutdown-grace");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      const e = slowExec(t.dir);
      const agent = spawnAgent([
        ...t.base,
        "--interval",
        "1s",
        "--shutdown-grace",
        "1s",
        "--exec",
        e.command,
      ]);
      await until(fileExists(e.child));
      await until(fileExists(e.started));
      agent.signalGroup("SIGTERM");
      expect(await agent.exited).toEqual({ code: 1, signal: null });
      expect(agent.stderr()).toMatch(/DEPLOY FAILED #1: --exec stopped: shutdown grace period 1s over/);
      // Its whole group was killed: the background child is gone too (not orphaned).
      const pid = readPid(e.child);
      await until(() => !alive(pid));
      expect(existsSync(t.workdir)).toBe(false);
    });

    it("a second signal kills the --exec group now, and the agent still exits by itself (no orphan)", async () => {
      const t = setup("shutdown-second");
      const s1 = commitFiles(t.work, { "app.yaml": "v1" });
      await publishRecord(t.bare, key, s1, 1, null);
      const e = slowExec(t.dir);
      const agent = spawnAgent([...t.base, "--interval", "1s", "--exec", e.command]);
      await until(fileExists(e.child));
      await until(fileExists(e.started));
      agent.child.kill("SIGINT");
      await agent.waitFor(/SIGINT received; stopping/);
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 1, signal: null });
      expect(agent.stderr()).toMatch(/SIGTERM received again; killing a running --exec's process group/);
      expect(agent.stderr()).toMatch(/DEPLOY FAILED #1: --exec stopped: second signal/);
      const pid = readPid(e.child);
      await until(() => !alive(pid));
    });
  });

  it("a failing --exec backs off (not every tick), metrics count each outcome, loop exit reflects the last one", async () => {
    const t = setup("backoff");
    const s1 = commitFiles(t.work, { "app.yaml": "v1" });
    await publishRecord(t.bare, key, s1, 1, null);
    const attempts = join(t.dir, "attempts");
    const agent = spawnAgent([
      ...t.base,
      "--interval",
      "1s",
      "--log-format",
      "json",
      "--metrics-port",
      "0",
      "--exec",
      `echo x >> ${attempts}; echo "line one"; echo "apply failed" >&2; exit 3`,
    ]);
    const count = () => (existsSync(attempts) ? readFileSync(attempts, "utf8").trim().split("\n").length : 0);
    try {
      const port = Number((await agent.waitFor(/"event":"metrics"[^\n]*"port":(\d+)/))[1]);
      await until(() => count() >= 3);
      await agent.waitFor(/"event":"deploy-failed"[^\n]*will retry in 8s/);
      const lines = agent
        .stderr()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; message: string; level: string });
      const retries = lines
        .filter((l) => l.event === "deploy-failed")
        .map((l) => /will retry in (\w+)/.exec(l.message)?.[1]);
      expect(retries.slice(0, 3)).toEqual(["2s", "4s", "8s"]);
      // Between attempts the loop kept verifying and said it was holding the deploy back.
      // (How many ticks fall between two attempts depends on the machine's speed; that some do is
      // what "not every tick" means.)
      const deferred = lines.filter((l) => l.event === "deferred").length;
      expect(deferred).toBeGreaterThanOrEqual(1);
      expect(count()).toBe(3);
      expect(lines.some((l) => l.event === "exec-output" && l.message === "  | apply failed")).toBe(true);

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(
        /^pullgate_agent_ticks_total\{environment="production",outcome="deploy-failed"\} 3$/m,
      );
      expect(metrics).toMatch(/^pullgate_agent_exec_total\{environment="production",result="failed"\} 3$/m);
      expect(metrics).toMatch(
        /^pullgate_agent_ticks_total\{environment="production",outcome="deferred"\} [1-9]/m,
      );
      expect(metrics).toMatch(/^pullgate_agent_accepted_sequence\{environment="production"\} 1$/m);
      expect(metrics).toMatch(/^pullgate_agent_consecutive_deploy_failures\{environment="production"\} 3$/m);
      expect(metrics).toMatch(
        /^pullgate_agent_record_issued_timestamp_seconds\{environment="production"\} \d+$/m,
      );
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      agent.child.kill("SIGTERM");
    }
    // The last outcome was a failed or held-back deploy: exit 1, not 0.
    expect(await agent.exited).toEqual({ code: 1, signal: null });
  });

  it("usage: --log-format, --metrics-port, --shutdown-grace, --git-timeout are checked", async () => {
    const t = setup("usage");
    for (const bad of [
      ["--log-format", "xml"],
      ["--metrics-port", "70000"],
      ["--metrics-port", "http"],
      ["--shutdown-grace", "1"],
      ["--git-timeout", "x"],
      ["--max-age", "never"],
    ]) {
      expect((await t.once(bad)).code).toBe(2);
    }
    // A metrics port already taken is an I/O error (exit 2) with a clear message, before any tick.
    const taken = await silentPeer();
    try {
      const busy = await t.once(["--metrics-port", String(taken.port)]);
      expect(busy.code).toBe(2);
      expect(busy.err).toMatch(/cannot serve metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => taken.server.close(() => r()));
    }
  });
});
