import type { Command } from "./command.js";

/**
 * The command table. Each entry loads its module lazily, so `pullgate owners` does not pay for
 * openpgp or Probot. Summaries live here too, so `pullgate --help` loads nothing.
 */
export interface CommandEntry {
  summary: string;
  load: () => Promise<{ command: Command }>;
}

export const commands: Record<string, CommandEntry> = {
  audit: {
    summary: "Audit (and with --fix, enforce) branch protection of governed branches against the policy",
    load: () => import("./commands/audit.js"),
  },
  owners: {
    summary: "Show the code owners of paths under GitHub's CODEOWNERS rules; exit 1 if the file has errors.",
    load: () => import("./commands/owners.js"),
  },
  serve: {
    summary: "Run the GitHub App (Probot server with /healthz and /metrics) from environment variables.",
    load: () => import("./commands/serve.js"),
  },
  reconcile: {
    summary:
      "Run one reconciliation sweep: publish missing records, raise missed alerts, re-evaluate stale checks",
    load: () => import("./commands/reconcile.js"),
  },
  keygen: {
    summary: "Generate the app's record-signing OpenPGP key pair (private.asc, public.asc)",
    load: () => import("./commands/keygen.js"),
  },
  verify: {
    summary: "Fetch and verify the newest approved-revision record of an environment",
    load: () => import("./commands/verify.js"),
  },
  history: {
    summary:
      "List every record of approved/<ENV>, each verified as the agent verifies it; exit 1 if any fails",
    load: () => import("./commands/history.js"),
  },
  attest: {
    summary: "Emit a DSSE-signed in-toto SLSA verification summary (VSA) for a record's source commit",
    load: () => import("./commands/attest.js"),
  },
  "verify-attestation": {
    summary:
      "Verify a `pullgate attest` envelope against pinned keys; exit 1 unless it verifies and says PASSED",
    load: () => import("./commands/verify-attestation.js"),
  },
  agent: {
    summary: "Pull-based deploy loop: verify each new record, check its tree out, run a command",
    load: () => import("./commands/agent.js"),
  },
  policy: {
    summary:
      "Policy files: `policy lint FILE...` checks them, `policy show FILE` prints the effective policy",
    load: () => import("./commands/policy.js"),
  },
  "verify-commit": {
    summary:
      "Verify commit signatures against OpenPGP keys and/or an SSH allowed_signers file, as git verify-commit does",
    load: () => import("./commands/verify-commit.js"),
  },
  sandbox: {
    summary: "Serve a local GitHub emulator (REST API, git smart HTTP, one pre-registered app) until killed",
    load: () => import("./commands/sandbox.js"),
  },
  demo: {
    summary: "Run the whole pullgate story locally (sandbox GitHub + the real app) and narrate it",
    load: () => import("./commands/demo.js"),
  },
};
