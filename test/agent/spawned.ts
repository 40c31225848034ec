/**
 * The agent as operators run it: the bin, spawned in its own process group (so a test can signal the
 * agent's whole group as systemd or a terminal would, without signalling the test runner), with its
 * stderr collected and conditions awaited on it (never a sleep racing an event).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "../../bin/pullgate.js");

export interface SpawnedAgent {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the first match of RE in stderr (already there, or once it arrives). */
  waitFor: (re: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the agent's whole process group (Ctrl-C in a terminal, systemd's control-group kill). */
  signalGroup: (signal: NodeJS.Signals) => void;
}

export function spawnAgent(args: string[]): SpawnedAgent {
  const child = spawn(process.execPath, [BIN, "agent", ...args], {
    env: { ...process.env, PULLGATE_FROM_SOURCE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = stderr.match(waiter.re);
      if (match !== null) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => {
      r({ code, signal });
      // Anything still awaited will never come: fail with the log instead of hanging.
      for (const waiter of waiters.splice(0)) waiter.resolve(["" as string] as RegExpMatchArray);
    }),
  );
  return {
    child,
    stderr: () => stderr,
    waitFor: (re) =>
      new Promise((resolveWait, reject) => {
        const match = stderr.match(re);
        if (match !== null) return resolveWait(match);
        waiters.push({
          re,
          resolve: (m) =>
            m[0] === "" ? reject(new Error(`agent exited before ${String(re)}:\n${stderr}`)) : resolveWait(m),
        });
      }),
    exited,
    signalGroup: (signal) => {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    },
  };
}

/** Whether a process is alive: it exists (signal 0) and is not a zombie waiting for a reaper. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; a container's PID 1 may never reap an orphan.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Resolves once CONDITION holds, checking on each turn of the event loop's timers. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

export function readPid(file: string): number {
  return Number(readFileSync(file, "utf8").trim());
}

export function fileExists(file: string): () => boolean {
  return () => existsSync(file) && readFileSync(file, "utf8").trim() !== "";
}
