import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The fault, load and scale-out suite runs with `npm run test:reliability`.
    exclude: ["test/reliability/**", "**/node_modules/**"],
    // Differential tests spawn git, gpg and ssh-keygen; end-to-end tests start servers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Fails the test that made the strict sandbox record a GitHub contract violation.
    setupFiles: ["test/helpers/contract-setup.ts"],
  },
});
