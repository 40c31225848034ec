import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** `npm run test:reliability`: the fault, load and scale-out suite (slower than `npm test`). */
export default defineConfig({
  resolve: {
    alias: { "@pullgate/sandbox": fileURLToPath(new URL("sandbox/src/index.ts", import.meta.url)) },
  },
  test: {
    // The org sweep at its design point: 500 repositories audited within the rate limit
    // (`npm test` runs the same test with 50).
    include: ["test/reliability/**/*.test.ts", "test/audit/org-scale.test.ts"],
    env: { PULLGATE_AUDIT_SCALE: "500" },
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
