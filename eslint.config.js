// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/**", "sandbox/dist/**", "node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always"],
      "no-console": "off",
    },
  },
  {
    files: ["src/core/**/*.ts", "src/record/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      // The core is pure: no I/O, no Probot, no network. Adapters live in src/github, src/cli, src/agent.
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["probot", "probot/*", "@octokit/*"],
              message: "The core never imports Probot or Octokit.",
            },
            {
              group: [
                "node:fs",
                "node:fs/*",
                "fs",
                "node:child_process",
                "child_process",
                "node:net",
                "node:http",
                "node:https",
              ],
              message: "The core does no I/O: take plain data, return verdicts.",
            },
          ],
        },
      ],
    },
  },
);
