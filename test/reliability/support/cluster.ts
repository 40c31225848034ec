/**
 * A scaled-out pullgate: the demo world (sandbox, people with SSH signing keys, seeded acme/gitops)
 * with its webhooks sent to a relay in front of N app replicas (startServer, the same app
 * credentials and record-signing key, all calling the sandbox API through a counting proxy).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppOptions } from "../../../src/app.js";
import { startWorld, type World } from "../../../src/demo/world.js";
import { startServer, type ServerConfig } from "../../../src/server.js";
import { startEgress, type Egress } from "./egress.js";
import { startRelay, type Relay, type RelayMode } from "./relay.js";

// Probot resolves ioredis through npx-import, which downloads it when it believes it runs under
// npx: keep this suite off the network whatever the caller's npm context.
if (process.env.npm_lifecycle_event === "npx") process.env.npm_lifecycle_event = "test:reliability";

export interface ClusterOptions {
  replicas: number;
  mode?: RelayMode;
  app?: Partial<AppOptions>;
  redisUrl?: string;
  /** Octokit's write throttle (shared through redis when redisUrl is set); default off. */
  throttleWrites?: boolean;
  /** More server settings for every replica (e.g. the reconcile interval). */
  server?: Partial<ServerConfig>;
}

/** A replica the relay can route to: in this process, or a child process that can be killed. */
export interface Replica {
  webhookUrl: string;
  close(): Promise<void>;
  /** Child-process replicas only: SIGKILL (a crash). */
  kill?: () => Promise<void>;
  pid?: number;
}

export interface Cluster {
  root: string;
  world: World;
  relay: Relay;
  egress: Egress;
  /** null where a replica was stopped. */
  replicas: (Replica | null)[];
  /** Starts one more replica (same credentials); returns its index. */
  addReplica(): Promise<number>;
  /** Starts one more replica in a child process (killable); returns its index. */
  addChildReplica(): Promise<number>;
  stopReplica(index: number): Promise<void>;
  /** Waits until the sandbox and the relay are both quiet (bounded). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const root = await mkdtemp(join(tmpdir(), "pullgate-reliability-"));
  const world = await startWorld({ root, logLevel: "fatal" });
  const egress = await startEgress(world.sandbox.apiUrl);
  const replicas: (Replica | null)[] = [];
  // The world's own server keeps running but gets no more webhooks: the relay's replicas do.
  const relay = await startRelay(
    () => replicas.map((r) => r?.webhookUrl ?? "http://127.0.0.1:9/unreachable"),
    options.mode ?? "round-robin",
  );

  const replicaConfig = (): ServerConfig => ({
    appId: world.sandbox.app.id,
    privateKey: world.sandbox.app.privateKeyPem,
    webhookSecret: world.sandbox.app.webhookSecret,
    baseUrl: egress.apiUrl,
    port: 0,
    logLevel: "fatal",
    throttle: options.throttleWrites ?? false,
    signingKey: world.recordPrivateKey,
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    app: { pullLookupRetryDelaysMs: [50, 100, 200, 400], evaluationTimeoutMs: 20_000, ...options.app },
    ...options.server,
  });

  const addReplica = async (): Promise<number> => {
    const server = await startServer(replicaConfig());
    replicas.push({ webhookUrl: server.webhookUrl, close: () => server.close() });
    return replicas.length - 1;
  };

  const addChildReplica = async (): Promise<number> => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", new URL("./replica-main.ts", import.meta.url).pathname],
      {
        cwd: new URL("../../../", import.meta.url).pathname,
        env: { ...process.env, PULLGATE_REPLICA_CONFIG: JSON.stringify(replicaConfig()) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let errors = "";
    child.stderr.on("data", (c: Buffer) => (errors += c.toString("utf8")));
    const webhookUrl = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`replica did not start: ${errors}`)), 30_000);
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        const line = out.split("\n")[0];
        if (out.includes("\n") && line !== undefined) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { webhookUrl: string }).webhookUrl);
        }
      });
      child.once("exit", () => reject(new Error(`replica exited: ${errors}`)));
    });
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    };
    replicas.push({ webhookUrl, close: kill, kill, ...(child.pid ? { pid: child.pid } : {}) });
    return replicas.length - 1;
  };

  try {
    for (let i = 0; i < options.replicas; i++) await addReplica();
  } catch (error) {
    await Promise.all(replicas.map((r) => r?.close()));
    await relay.close();
    await egress.close();
    await world.close();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  world.sandbox.setWebhookUrl(relay.url);

  /** Deliveries before this index were answered and, if 202, waited out by settle(). */
  let accepted = 0;
  const cluster: Cluster = {
    root,
    world,
    relay,
    egress,
    replicas,
    addReplica,
    addChildReplica,
    async stopReplica(index) {
      const server = replicas[index];
      relay.down.add(index);
      replicas[index] = null;
      await server?.close();
    },
    async settle() {
      // Each handled event can cause more (check_run.completed, issues...): loop until a full pass
      // saw nothing new. Bounded: 400 passes of at least 25 ms.
      for (let pass = 0; pass < 400; pass++) {
        const before = relay.received.length + relay.forwarded.length;
        await world.sandbox.idle();
        await relay.idle();
        await sleep(25);
        await world.sandbox.idle();
        if (relay.inFlight() === 0 && relay.received.length + relay.forwarded.length === before) {
          // A replica that answered 202 (Probot: the handler outlived its 9 s webhook timeout and
          // carries on) may still be working: then wait until no app request has reached GitHub
          // for a while. Deliveries answered 200 were handled to the end: nothing to wait for.
          const answered202 = relay.forwarded.slice(accepted).some((f) => f.status === 202);
          if (!answered202) return;
          const sent = egress.total();
          await sleep(750);
          if (egress.total() === sent && relay.received.length + relay.forwarded.length === before) {
            accepted = relay.forwarded.length;
            return;
          }
        }
      }
      throw new Error("cluster did not settle");
    },
    async close() {
      world.sandbox.setWebhookUrl(undefined);
      await Promise.all(replicas.map((r) => r?.close()));
      await relay.close();
      await egress.close();
      await world.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A deterministic shuffle (mulberry32), so a failing order can be replayed from its seed. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
