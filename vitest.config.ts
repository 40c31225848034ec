import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Differential tests spawn git, gpg and ssh-keygen; end-to-end tests start servers.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
