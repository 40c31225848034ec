/** Runs the operator's --exec command for a newly verified record. */

import { spawn } from "node:child_process";

export interface ExecResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
}

/**
 * Runs CMD through the shell (operators write `kubectl apply -k .`) in `cwd`. Output goes to the
 * agent's own stdout/stderr through the given writers so a person follows one log.
 */
export function runExec(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; onOutput: (line: string) => void },
): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const forward = (stream: NodeJS.ReadableStream) => {
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
      stream.on("end", () => {
        if (buffered !== "") options.onOutput(buffered);
      });
    };
    if (child.stdout !== null) forward(child.stdout);
    if (child.stderr !== null) forward(child.stderr);
    child.on("error", () => resolvePromise({ ok: false, exitCode: null, signal: null }));
    child.on("close", (code, signal) => resolvePromise({ ok: code === 0, exitCode: code, signal }));
  });
}
