/** Pure pieces of the agent: the backoff, the log line, durations, the freshness default. */
import { describe, expect, it } from "vitest";
import { ExecBackoff } from "../../src/agent/backoff.js";
import { formatDuration, parseDuration } from "../../src/agent/duration.js";
import { oneLine } from "../../src/agent/git.js";
import { formatLogLine } from "../../src/agent/log.js";
import { DEFAULT_REFRESH_INTERVAL_MS, defaultMaxAgeMs } from "../../src/core/records-refresh.js";

describe("ExecBackoff", () => {
  it("doubles from 2 × base for the same tree, up to the cap; a new tree or a success resets", () => {
    const b = new ExecBackoff(1000, 10_000);
    expect(b.retryAt("t1", 0)).toBeNull();
    expect([1, 2, 3, 4, 5].map(() => b.failed("t1", 0))).toEqual([2000, 4000, 8000, 10_000, 10_000]);
    expect(b.consecutiveFailures).toBe(5);
    expect(b.retryAt("t1", 9_999)).toBe(10_000);
    expect(b.retryAt("t1", 10_000)).toBeNull();
    // Another tree (a newer record) is tried at once, and counts from one.
    expect(b.retryAt("t2", 0)).toBeNull();
    expect(b.failed("t2", 0)).toBe(2000);
    b.succeeded();
    expect(b.consecutiveFailures).toBe(0);
    expect(b.retryAt("t2", 1)).toBeNull();
    // Thousands of failures do not overflow past the cap.
    for (let i = 0; i < 5000; i++) b.failed("t3", 0);
    expect(b.failed("t3", 0)).toBe(10_000);
  });
});

describe("agent log lines", () => {
  const at = new Date("2026-11-22T02:00:00Z");
  const gitError =
    "git fetch failed: fatal: '/x' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";

  it("text: the historical shape, a multi-line message on one line", () => {
    const line = formatLogLine("text", "production", at, {
      level: "error",
      event: "refused",
      message: gitError,
    });
    expect(line).toBe(
      "2026-11-22T02:00:00.000Z pullgate agent production: git fetch failed: fatal: '/x' does not appear to be a git repository; fatal: Could not read from remote repository.; Please make sure you have the correct access rights; and the repository exists.",
    );
  });

  it("json: one object per line with level, event, environment and the event's fields", () => {
    const line = formatLogLine("json", "production", at, {
      level: "error",
      event: "refused",
      message: gitError,
      fields: { code: "FETCH_FAILED" },
    });
    expect(line).not.toMatch(/\n/);
    expect(JSON.parse(line)).toEqual({
      time: "2026-11-22T02:00:00.000Z",
      level: "error",
      event: "refused",
      environment: "production",
      message: oneLine(gitError),
      code: "FETCH_FAILED",
    });
  });

  it("--exec output keeps its indentation; a stray carriage return does not split it", () => {
    expect(
      formatLogLine("text", "qa", at, { level: "info", event: "exec-output", message: "  | a\r\nb" }),
    ).toBe("2026-11-22T02:00:00.000Z pullgate agent qa:   | a b");
  });
});

describe("durations and the freshness default", () => {
  it("formats what parseDuration reads, hours below two days", () => {
    for (const text of ["30s", "15m", "24h", "50h", "7d", "90s"]) {
      const ms = parseDuration(text);
      expect(ms).not.toBeNull();
      expect(parseDuration(formatDuration(ms ?? 0))).toBe(ms);
    }
    expect(formatDuration(86_400_000)).toBe("24h");
    expect(formatDuration(2 * 86_400_000)).toBe("2d");
    expect(formatDuration(1500)).toBe("1500ms");
  });

  it("default max-age: 2 × the 24h refresh interval + 2h = 50h", () => {
    expect(DEFAULT_REFRESH_INTERVAL_MS).toBe(24 * 3_600_000);
    expect(defaultMaxAgeMs()).toBe(50 * 3_600_000);
    expect(defaultMaxAgeMs(3_600_000)).toBe(4 * 3_600_000);
  });
});
