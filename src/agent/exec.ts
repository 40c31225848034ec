/**
 * Runs the operator's --exec command for a newly verified record, under the shutdown contract of
 * docs/agents.md ("Stopping the agent"):
 *
 * - the command runs in its own process group (detached), so a Ctrl-C or a SIGTERM to the agent's
 *   process group does not interrupt it mid-apply; the agent decides when it stops;
 * - it gets `timeoutMs`; past it, and past the shutdown grace period, its whole group gets SIGTERM,
 *   then SIGKILL KILL_AFTER_MS later, and is waited for (never orphaned);
 * - its end is its `exit`, not the close of its pipes: a background child that inherited stdout
 *   (`cmd &`) must not hold the loop. Output still in the pipes is read for a short drain window,
 *   then the pipes are dropped.
 */

import { spawn } from "node:child_process";
import { formatDuration } from "./duration.js";

export interface ExecResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  /** Why pullgate ended it (timeout, shutdown), or why it could not start; null when it ended by itself. */
  killedFor: string | null;
}

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  onOutput: (line: string) => void;
  timeoutMs: number;
  /**
   * Aborted on the first SIGTERM/SIGINT: the command gets `graceMs` to finish by itself, then its
   * group is killed.
   */
  shutdown?: AbortSignal | undefined;
  graceMs: number;
  /** Aborted on a second signal: the grace period ends now. */
  urgent?: AbortSignal | undefined;
}

/** From SIGTERM to SIGKILL of the group: time for kubectl & co. to write their last line. */
export const KILL_AFTER_MS = 5000;
/** After the command exits, how long its pipes may still deliver output before they are dropped. */
const DRAIN_MS = 200;

export function runExec(command: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timers: NodeJS.Timeout[] = [];
    let killedFor: string | null = null;
    let exit: { code: number | null; signal: string | null } | null = null;
    let settled = false;

    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        /* the group is gone */
      }
    };
    const terminate = (why: string, immediately: boolean) => {
      if (exit !== null) return;
      killedFor ??= why;
      if (immediately) {
        signalGroup("SIGKILL");
        return;
      }
      signalGroup("SIGTERM");
      timers.push(setTimeout(() => signalGroup("SIGKILL"), KILL_AFTER_MS));
    };

    timers.push(
      setTimeout(
        () => terminate(`timed out after ${formatDuration(options.timeoutMs)}`, false),
        options.timeoutMs,
      ),
    );
    const onShutdown = () =>
      timers.push(
        setTimeout(
          () => terminate(`stopped: shutdown grace period ${formatDuration(options.graceMs)} over`, false),
          options.graceMs,
        ),
      );
    const onUrgent = () => terminate("stopped: second signal", true);
    if (options.shutdown?.aborted) onShutdown();
    else options.shutdown?.addEventListener("abort", onShutdown, { once: true });
    if (options.urgent?.aborted) onUrgent();
    else options.urgent?.addEventListener("abort", onUrgent, { once: true });

    const streams = [child.stdout, child.stderr];
    const flushers: (() => void)[] = [];
    for (const stream of streams) {
      let buffered = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          options.onOutput(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
      const flush = () => {
        if (buffered !== "") options.onOutput(buffered);
        buffered = "";
      };
      stream.on("end", flush);
      flushers.push(flush);
    }

    const finish = (result: ExecResult) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.shutdown?.removeEventListener("abort", onShutdown);
      options.urgent?.removeEventListener("abort", onUrgent);
      for (const stream of streams) {
        stream.removeAllListeners("data");
        stream.destroy();
      }
      for (const flush of flushers) flush();
      resolvePromise(result);
    };
    const resultOf = (): ExecResult => ({
      ok: exit?.code === 0 && killedFor === null,
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      killedFor,
    });

    child.on("error", (error) => {
      killedFor ??= `could not start: ${error.message}`;
      finish(resultOf());
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // Killed by us: make sure nothing of its group survives it.
      if (killedFor !== null) signalGroup("SIGKILL");
      timers.push(setTimeout(() => finish(resultOf()), DRAIN_MS));
    });
    child.on("close", () => {
      if (exit !== null) finish(resultOf());
    });
  });
}
