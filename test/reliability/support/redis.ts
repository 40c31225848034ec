/**
 * A real redis-server for the scale-out tests: on a free loopback port, in a temp dir, no
 * persistence, stopped (by its own pid) after the test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, connect } from "node:net";
import type { AddressInfo } from "node:net";

export interface RedisServer {
  url: string;
  port: number;
  /** Sends PING over a raw socket; resolves with the reply line ("+PONG"). */
  ping(): Promise<string>;
  stop(): Promise<void>;
}

/** A port the kernel just handed out on 127.0.0.1 (closed again, so redis can bind it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(2_000, () => socket.destroy(new Error("redis did not answer")));
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) {
        socket.end();
        resolve(reply.split("\r\n")[0] ?? "");
      }
    });
    socket.on("error", reject);
  });
}

export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Bounded wait for "Ready to accept connections" (checked by PING, which is what matters).
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    if (child.exitCode !== null) break;
    ready = await rawCommand(port, "PING").then(
      (r) => r === "+PONG",
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill("SIGKILL");
    throw new Error(`redis-server did not start on ${port}:\n${output}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    ping: () => rawCommand(port, "PING"),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
