import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The emulator package runs from its sources (its dist/ is for the production install).
  resolve: {
    alias: { "@pullgate/sandbox": fileURLToPath(new URL("sandbox/src/index.ts", import.meta.url)) },
  },
  test: {
    include: [
      "src/**/*.test.ts",
      "test/**/*.test.ts",
      "sandbox/src/**/*.test.ts",
      "sandbox/test/**/*.test.ts",
    ],
    // The fault, load and scale-out suite runs with `npm run test:reliability`.
    exclude: ["test/reliability/**", "**/node_modules/**"],
    // Differential tests spawn git, gpg and ssh-keygen; end-to-end tests start servers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Fails the test that made the strict sandbox record a GitHub contract violation.
    setupFiles: ["sandbox/test/helpers/contract-setup.ts"],
  },
});
