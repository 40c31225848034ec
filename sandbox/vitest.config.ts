import { defineConfig } from "vitest/config";

/** The emulator's own tests (`npm test -w @pullgate/sandbox`); the product's `npm test` runs them too. */
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    // Tests spawn git, gpg and ssh-keygen and start servers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Fails the test that made the strict sandbox record a GitHub contract violation.
    setupFiles: ["test/helpers/contract-setup.ts"],
  },
});
