/**
 * The setup page in a real headless browser (Debian's chromium, driven by playwright-core): the
 * operator's clicks from the local page through the sandbox's new-app page and back, with the
 * browser's own cookie, redirect and Content-Security-Policy handling (a form-action the policy
 * did not allow, or a cookie the redirect back did not carry, fails here and nowhere else).
 * Skipped, saying why, where /usr/bin/chromium is not installed (`apt-get install -y chromium`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "@pullgate/sandbox";
import { parseEnvFile } from "../../src/setup/env-file.js";
import { startSetupServer, type SetupServer } from "../../src/setup/server.js";

// PULLGATE_CHROMIUM: another chromium binary (or a missing path, to see the skip).
const CHROMIUM = process.env.PULLGATE_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available)
  console.warn(`setup-browser.test.ts: skipped: ${CHROMIUM} is absent (Debian: apt-get install -y chromium)`);

describe.skipIf(!available)("setup page in headless chromium", () => {
  let t: TestSandbox;
  let browser: Browser;
  let setup: SetupServer;
  let dir: string;

  beforeAll(async () => {
    t = await startTestSandbox();
    const owner = await t.createUser("olivia");
    await t.createOrgWithoutApp("acme", owner.login);
    dir = mkdtempSync(join(tmpdir(), "pullgate-setup-browser-"));
    const web = t.sandbox.gitUrl.replace(/\/$/, "");
    setup = await startSetupServer({
      webUrl: web,
      apiUrl: t.sandbox.apiUrl,
      host: "127.0.0.1",
      port: 0,
      dir,
      hasSigningKey: false,
      webhookUrl: "http://127.0.0.1:9/api/github/webhooks",
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium's own sandbox needs user namespaces, which containers (and root) often lack.
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await setup?.close();
    await t?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("registers the app by clicking through, and shows the install link", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    await page.goto(`${setup.url}/`);
    expect(await page.locator("h1").textContent()).toBe("Register the GitHub App");
    await page.fill('input[name="name"]', "Browser Gate");
    await page.fill('input[name="org"]', "acme");
    await Promise.all([page.waitForURL(`${setup.url}/setup/manifest`), page.click('button[type="submit"]')]);
    expect(await page.locator("h1").textContent()).toBe("Create the app on GitHub");
    await Promise.all([
      page.waitForURL(/\/organizations\/acme\/settings\/apps\/new\?state=/),
      page.click('button[type="submit"]'),
    ]);
    expect(await page.locator("h1").textContent()).toBe("Create GitHub App for acme");
    expect(await page.inputValue('input[name="name"]')).toBe("Browser Gate");
    await Promise.all([page.waitForURL(/\/setup\/callback\?code=/), page.click('button[type="submit"]')]);
    expect(await page.locator("h1").textContent()).toBe("GitHub App browser-gate registered");
    const install = await page.locator("a", { hasText: "Install the app" }).getAttribute("href");
    expect(install).toBe(`${t.sandbox.gitUrl}apps/browser-gate/installations/new`);
    expect(blocked).toEqual([]);

    const result = await setup.done;
    const stored = parseEnvFile(readFileSync(join(dir, ".env"), "utf8"));
    expect(stored.APP_ID).toBe(String(result.appId));
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(result.signingKey?.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(stored.PULLGATE_SIGNING_KEY_FILE).toBe(result.signingKey?.privateKeyPath);

    // Reloaded in the same browser (same cookie, same code), the callback is not accepted again.
    const again = await page.reload();
    expect(again?.status()).toBe(410);
    expect(await page.locator("h1").textContent()).toBe("Setup failed");
    await context.close();
  });
});
