/**
 * `npm run bench [-- --json] [--only a,b]`: runs every benchmark module (or the named ones),
 * prints a table (or, with --json, the contract document
 * `{"results":[{"name","value","unit","target","ok"}]}`), and exits 1 if any result misses its
 * target. Benchmarks live here, never in the test suite (no timing assertions).
 */
import { benchApiRequests } from "./api-requests.bench.js";
import { benchCodeowners } from "./codeowners.bench.js";
import { benchEvaluate } from "./evaluate.bench.js";
import { benchOrgAudit } from "./org-audit.bench.js";
import { benchPolicy } from "./policy.bench.js";
import { benchSignatures } from "./signatures.bench.js";
import type { BenchResult } from "./result.js";

/** Add a module here to have it run. */
const MODULES: { name: string; run: () => Promise<BenchResult[]> }[] = [
  { name: "codeowners", run: benchCodeowners },
  { name: "policy", run: benchPolicy },
  { name: "evaluate", run: benchEvaluate },
  { name: "signatures", run: benchSignatures },
  // Last: it starts the sandbox and the server, whose sockets and git processes would load the CPU benches.
  { name: "api-requests", run: benchApiRequests },
  // 2,000 repositories (PULLGATE_BENCH_ORG_REPOS): minutes of sandbox set-up, so after the rest.
  { name: "org-audit", run: benchOrgAudit },
];

function table(results: BenchResult[]): string {
  const rows = results.map((r) => [
    r.name,
    String(r.value),
    r.unit,
    `${r.higherIsBetter === true ? ">=" : "<="} ${r.target}`,
    r.before === undefined ? "" : String(r.before),
    r.ok ? "ok" : "MISSED",
  ]);
  const header = ["benchmark", "value", "unit", "target", "before", "status"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const format = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...rows.map(format)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  // `--only signatures,policy`: run some modules (e.g. skip the slower API-request scenarios).
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",").filter((n) => n !== "") : null;
  const unknown = (only ?? []).filter((n) => !MODULES.some((m) => m.name === n));
  if (only !== null && (only.length === 0 || unknown.length > 0)) {
    process.stderr.write(
      `--only takes a comma-separated list of: ${MODULES.map((m) => m.name).join(", ")}\n`,
    );
    return 2;
  }
  const results: BenchResult[] = [];
  for (const module of MODULES.filter((m) => only === null || only.includes(m.name))) {
    if (!json) process.stderr.write(`running ${module.name}...\n`);
    try {
      results.push(...(await module.run()));
    } catch (error) {
      // A module that cannot measure is a failed result, not a crash: --json stays one document.
      process.stderr.write(
        `bench ${module.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      results.push({ name: `${module.name}.failed`, value: 1, unit: "errors", target: 0, ok: false });
    }
  }
  // The contract's fields only (docs/architecture.md, "CLI contract"): ok already says which way
  // the target points.
  const contract = results.map(({ name, value, unit, target, ok }) => ({ name, value, unit, target, ok }));
  if (json) process.stdout.write(JSON.stringify({ results: contract }, null, 2) + "\n");
  else process.stdout.write(table(results) + "\n");
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
