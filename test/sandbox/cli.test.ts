import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/cli/io.js";

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: process.cwd() };
}

describe("pullgate sandbox (CLI)", () => {
  it("refuses a missing --dir and a bad --port with exit 2", async () => {
    const io = captureIo();
    expect(await main(["sandbox"], io)).toBe(2);
    expect(io.err.join("")).toContain("--dir is required");
    const io2 = captureIo();
    expect(await main(["sandbox", "--dir", "/tmp/x", "--port", "99999"], io2)).toBe(2);
  });

  it("serves until SIGTERM; first stdout line with --json is the connection document", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pullgate-cli-sandbox-"));
    const child = spawn(process.execPath, ["bin/pullgate.js", "sandbox", "--dir", join(dir, "s"), "--json"], {
      env: { ...process.env, PULLGATE_FROM_SOURCE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.once("line", resolve);
        child.once("exit", (code) => reject(new Error(`exited ${String(code)}`)));
      });
      const info = JSON.parse(line) as {
        api: string;
        git: string;
        adminToken: string;
        app: { id: number; privateKeyPath: string; webhookSecret: string };
      };
      expect(info.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
      expect(info.git).toBe(info.api.replace(/api\/v3$/, ""));
      expect(info.app.privateKeyPath).toBe(join(dir, "s", "app.pem"));
      expect(info.app.webhookSecret.length).toBeGreaterThan(10);
      const me = await fetch(`${info.api}/user`, { headers: { authorization: `token ${info.adminToken}` } });
      expect(((await me.json()) as { login: string }).login).toBe("admin");
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
