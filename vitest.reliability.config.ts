import { defineConfig } from "vitest/config";

/** `npm run test:reliability`: the fault, load and scale-out suite (slower than `npm test`). */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
