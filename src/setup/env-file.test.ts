/**
 * The `.env` the setup writes and `serve` reads: values round-trip whatever they contain, the file
 * is created 0600 and never replaces an existing one, and a file others can write is not read
 * (whoever writes it would choose the app's credentials and GitHub URL).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFileAtomic, formatEnvFile, parseEnvFile, readEnvFile } from "./env-file.js";
import { readAppYml, renderManifest } from "./manifest.js";

const dir = mkdtempSync(join(tmpdir(), "pullgate-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("setup: env file", () => {
  it("round-trips values with quotes, backslashes, newlines, spaces and #", () => {
    const values: [string, string][] = [
      ["APP_ID", "42"],
      ["PRIVATE_KEY", Buffer.from("-----BEGIN RSA PRIVATE KEY-----\nx\n").toString("base64")],
      ["ODD", 'a "b" \\c\nd #e'],
      ["EMPTY", ""],
    ];
    const text = formatEnvFile(values, ["a comment"]);
    expect(text.startsWith("# a comment\nAPP_ID=42\n")).toBe(true);
    expect(parseEnvFile(text)).toEqual(Object.fromEntries(values));
  });

  it("reads the usual forms and refuses what is not KEY=value", () => {
    expect(parseEnvFile('# c\n\nexport A=1\nB=\'x y\'\nC="q\\""\n')).toEqual({ A: "1", B: "x y", C: 'q"' });
    expect(() => parseEnvFile("A=1\nnot a line\n", "f")).toThrow("f:2: not a KEY=value line");
    expect(() => parseEnvFile('A="open\n')).toThrow("unterminated");
    expect(() => formatEnvFile([["BAD-KEY", "x"]])).toThrow("not an environment name");
  });

  it("creates the file 0600, atomically, and never over an existing one", async () => {
    const path = join(dir, ".env");
    await createFileAtomic(path, "A=1\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await expect(createFileAtomic(path, "A=2\n")).rejects.toMatchObject({ code: "EEXIST" });
    expect(readFileSync(path, "utf8")).toBe("A=1\n");
    // No temporary file is left behind, even by the refused write.
    expect((await readdir(dir)).sort()).toEqual([".env"]);
  });

  it("does not read an env file others may write", async () => {
    const path = join(dir, "shared.env");
    writeFileSync(path, "APP_ID=1\n");
    chmodSync(path, 0o666);
    await expect(readEnvFile(path)).rejects.toThrow("writable by group or others");
    chmodSync(path, 0o600);
    expect(await readEnvFile(path)).toEqual({ APP_ID: "1" });
    expect(await readEnvFile(join(dir, "absent.env"))).toBeUndefined();
  });
});

describe("setup: manifest from app.yml", () => {
  it("asks for exactly app.yml's permissions and events, private, with the operator's URLs", () => {
    const appYml = readAppYml();
    const manifest = renderManifest(appYml, {
      name: " Gate ",
      webhookUrl: "https://gate.example.test/api/github/webhooks",
      redirectUrl: "http://127.0.0.1:3000/setup/callback",
    });
    expect(manifest).toMatchObject({
      name: "Gate",
      url: appYml.url,
      public: false,
      hook_attributes: { url: "https://gate.example.test/api/github/webhooks", active: true },
      redirect_url: "http://127.0.0.1:3000/setup/callback",
    });
    expect(manifest.default_permissions).toEqual(appYml.default_permissions);
    expect(manifest.default_events).toEqual(appYml.default_events);
  });

  it("refuses values GitHub would refuse or that would leak credentials", () => {
    const appYml = readAppYml();
    const ok = { name: "Gate", webhookUrl: "https://h.test/w", redirectUrl: "http://127.0.0.1/cb" };
    expect(() => renderManifest(appYml, { ...ok, name: "x".repeat(35) })).toThrow("1 to 34");
    expect(() => renderManifest(appYml, { ...ok, webhookUrl: "javascript:alert(1)" })).toThrow("webhook URL");
    expect(() => renderManifest(appYml, { ...ok, webhookUrl: "https://u:p@h.test/w" })).toThrow(
      "webhook URL",
    );
    expect(() => renderManifest({ ...appYml, default_permissions: { contents: "admin" } }, ok)).toThrow(
      "not read or write",
    );
  });
});

describe("serve: .env under the process environment", () => {
  it("reads ./.env, lets the process's variables win, and offers setup only without any credential", async () => {
    const { serveEnv, needsSetup } = await import("../cli/commands/serve.js");
    const cwd = mkdtempSync(join(dir, "serve-"));
    writeFileSync(join(cwd, ".env"), "APP_ID=7\nPORT=4000\n", { mode: 0o600 });
    const io = { stdout: () => undefined, stderr: () => undefined, cwd, env: { PORT: "5000", HOME: "/h" } };
    const env = await serveEnv(io);
    expect(env).toMatchObject({ APP_ID: "7", PORT: "5000", HOME: "/h" });
    expect(needsSetup(env)).toBe(false);
    expect(needsSetup({ PORT: "1" })).toBe(true);
    // Half-configured is not "no credentials": serve fails closed on what is missing instead.
    expect(needsSetup({ WEBHOOK_SECRET: "s" })).toBe(false);
  });
});
