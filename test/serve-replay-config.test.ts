import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { serveConfigFromEnv } from "../src/cli/commands/serve.js";

const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs1",
  format: "pem",
});
const base = { APP_ID: "1", PRIVATE_KEY: String(pem), WEBHOOK_SECRET: "s" };

describe("pullgate serve: webhook endpoint settings", () => {
  it("PULLGATE_REPLAY_WINDOW_MS sets how long handled delivery ids are remembered", () => {
    expect(serveConfigFromEnv({ ...base, PULLGATE_REPLAY_WINDOW_MS: "3600000" }).replayWindowMs).toBe(
      3_600_000,
    );
    expect("replayWindowMs" in serveConfigFromEnv(base)).toBe(false);
  });

  it("refuses a window that is not a positive number of milliseconds", () => {
    for (const bad of ["0", "-5", "1.5", "soon"])
      expect(() => serveConfigFromEnv({ ...base, PULLGATE_REPLAY_WINDOW_MS: bad })).toThrow(
        /PULLGATE_REPLAY_WINDOW_MS/,
      );
  });
});
