/**
 * Helpers of the setup tests (test/e2e/setup*.test.ts): the browser's side of GitHub's app-manifest
 * flow over plain HTTP (forms read from the pages, the cookie carried by hand, redirects followed
 * one at a time so each hop is checked), and a spawned `pullgate serve`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

const BIN = join(import.meta.dirname, "..", "..", "bin", "pullgate.js");

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The first form of a page: its action and every input's name and value. */
export function readForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(html);
  if (form === null) throw new Error(`no form in the page:\n${html}`);
  const fields: Record<string, string> = {};
  for (const m of (form[2] ?? "").matchAll(/<input ([^>]*)>/g)) {
    const attrs = m[1] ?? "";
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    if (name !== undefined) fields[name] = unescapeHtml(/value="([^"]*)"/.exec(attrs)?.[1] ?? "");
  }
  return { action: unescapeHtml(form[1] ?? ""), fields };
}

export const postForm = (url: string, fields: Record<string, string>, cookie?: string) =>
  fetch(url, {
    method: "POST",
    body: new URLSearchParams(fields),
    redirect: "manual",
    ...(cookie === undefined ? {} : { headers: { cookie } }),
  });

export interface StartedRegistration {
  /** GitHub's redirect back to the setup server: `/setup/callback?code=…&state=…`. */
  callback: URL;
  /** The setup server's cookie (`name=value`), as the browser would send it back. */
  cookie: string;
}

/** Setup page → manifest page (cookie) → GitHub's new-app page → its confirmation → the redirect. */
export async function registerApp(
  setupUrl: string,
  input: { name: string; webhookUrl: string; org?: string },
): Promise<StartedRegistration> {
  const start = await fetch(`${setupUrl}/`);
  if (start.status !== 200) throw new Error(`setup page: HTTP ${start.status}`);
  const first = readForm(await start.text());
  const manifestPage = await postForm(new URL(first.action, setupUrl).toString(), {
    ...first.fields,
    name: input.name,
    webhook_url: input.webhookUrl,
    org: input.org ?? "",
  });
  if (manifestPage.status !== 200)
    throw new Error(`manifest page: HTTP ${manifestPage.status}: ${await manifestPage.text()}`);
  const cookie = (manifestPage.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const toGitHub = readForm(await manifestPage.text());
  const confirmPage = await postForm(toGitHub.action, toGitHub.fields);
  if (confirmPage.status !== 200) throw new Error(`new-app page: HTTP ${confirmPage.status}`);
  const confirm = readForm(await confirmPage.text());
  const created = await postForm(new URL(confirm.action, toGitHub.action).toString(), confirm.fields);
  if (created.status !== 302) throw new Error(`confirmation: HTTP ${created.status}`);
  return { callback: new URL(created.headers.get("location") ?? ""), cookie };
}

/** A port nothing listens on right now (for a webhook URL that must be known before its server starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr (rejects when the process exits first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number>;
  stop(): Promise<number>;
}

/** `pullgate serve` from the sources, with exactly `env` (plus PATH and HOME), in `cwd`. */
export function spawnServe(cwd: string, env: Record<string, string>): ServeProcess {
  const child = spawn(process.execPath, [BIN, "serve"], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      PULLGATE_FROM_SOURCE: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
    for (const w of waiters) w();
  });
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? -1)));
  return {
    child,
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolvePromise, reject) => {
        const check = () => {
          const m = pattern.exec(stderr);
          if (m !== null) {
            done();
            resolvePromise(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}; stderr:\n${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        void exited.then((code) => {
          if (pattern.exec(stderr) === null) {
            done();
            reject(new Error(`pullgate serve exited ${code} before ${pattern}; stderr:\n${stderr}`));
          }
        });
        waiters.add(check);
        check();
      });
    },
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
