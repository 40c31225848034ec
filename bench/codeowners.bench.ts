import { compileCodeowners, compileCodeownersNaive } from "../src/core/codeowners/match.js";
import { parseCodeowners } from "../src/core/codeowners/parse.js";
import { atMost, bestOfMs, type BenchResult } from "./result.js";

/**
 * The CODEOWNERS design point: a GitOps monorepo with 5,000 rules and a PR touching 3,000 paths
 * (GitHub's file-listing limit). The file is compiled once per base commit; every changed path is
 * then looked up. Inputs are generated from a fixed seed, so runs are comparable.
 */
export const RULES = 5000;
export const PATHS = 3000;

/** mulberry32: a small deterministic PRNG, so the generated repository is the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ENVS = ["prod", "staging", "qa", "dev"];
const TEAMS = Array.from({ length: 40 }, (_, i) => `team-${String(i).padStart(2, "0")}`);
const APPS_PER_TEAM = 30;
const FILES = [
  "deployment.yaml",
  "service.yaml",
  "kustomization.yaml",
  "values.yaml",
  "values-prod.yaml",
  "hpa.yaml",
  "networkpolicy-ingress.yaml",
  "README.md",
  "config.json",
  "secrets/db.enc.yaml",
  "templates/ingress.yaml",
];

function appName(team: string, i: number): string {
  return `${team}-app-${String(i).padStart(2, "0")}`;
}

/** A realistic monorepo CODEOWNERS file with exactly `rules` rules (plus comments). */
export function generateCodeowners(rules = RULES, seed = 1): string {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const lines: string[] = [
    "# Generated monorepo CODEOWNERS (bench/codeowners.bench.ts)",
    "* @org/platform",
    "",
  ];
  let count = 1;
  const add = (line: string) => {
    if (count < rules) {
      lines.push(line);
      count++;
    }
  };
  add("*.yaml @org/yaml-reviewers");
  add("*.yml @org/yaml-reviewers");
  add("*.md @org/docs");
  add("*.json @org/platform");
  add("*.tf @org/infra");
  add("*.rego @org/security");
  add("Dockerfile @org/containers");
  add("**/secrets/ @org/security");
  add("**/kustomization.yaml @org/gitops");
  add("/clusters/**/networkpolicy*.yaml @org/netsec");
  add("docs/* @org/docs");
  add("/.github/ @org/platform-admins");
  add("/CODEOWNERS @org/platform-admins");
  for (const team of TEAMS) {
    lines.push(`# ${team}`);
    for (let i = 0; i < APPS_PER_TEAM; i++) add(`/apps/${appName(team, i)}/ @org/${team}`);
  }
  for (const env of ENVS) {
    lines.push("", `# environment ${env}`);
    add(`/clusters/${env}/ @org/${env}-approvers`);
    for (const team of TEAMS) {
      add(`/clusters/${env}/${team}/ @org/${team} @org/${env}-approvers`);
      for (let i = 0; i < APPS_PER_TEAM; i++) {
        add(`/clusters/${env}/${team}/${appName(team, i)}/ @org/${team} @org/${env}-approvers`);
      }
    }
  }
  // Fill the rest with per-file overrides and un-owned paths, as files accumulate them over years.
  while (count < rules) {
    const env = pick(ENVS);
    const team = pick(TEAMS);
    const app = appName(team, Math.floor(random() * APPS_PER_TEAM));
    if (random() < 0.1) add(`/clusters/${env}/${team}/${app}/generated/`);
    else add(`/clusters/${env}/${team}/${app}/values-*.yaml @org/${team}-leads ${team}-oncall@example.com`);
  }
  return lines.join("\n") + "\n";
}

/** Paths a busy monorepo PR touches: mostly cluster manifests, some apps, docs and root files. */
export function generatePaths(paths = PATHS, seed = 2): string[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const out: string[] = [];
  while (out.length < paths) {
    const team = pick(TEAMS);
    const app = appName(team, Math.floor(random() * (APPS_PER_TEAM + 5)));
    const r = random();
    if (r < 0.7) out.push(`clusters/${pick(ENVS)}/${team}/${app}/${pick(FILES)}`);
    else if (r < 0.9)
      out.push(`apps/${app}/src/${pick(["main.go", "handler.go", "index.ts", "Dockerfile"])}`);
    else if (r < 0.95) out.push(`docs/${pick(["runbook.md", "adr/0001-gitops.md", "index.md"])}`);
    else out.push(pick(["README.md", "Makefile", ".github/workflows/ci.yml", "CODEOWNERS", "tools/lint.sh"]));
  }
  return out;
}

export async function benchCodeowners(): Promise<BenchResult[]> {
  const text = generateCodeowners();
  const paths = generatePaths();
  const parsed = parseCodeowners(text);
  if (parsed.errors.length > 0 || parsed.rules.length !== RULES) {
    throw new Error(
      `generated CODEOWNERS is wrong: ${parsed.rules.length} rules, ${parsed.errors.length} errors`,
    );
  }

  const compileMs = bestOfMs(() => compileCodeowners(parseCodeowners(text)));

  const matcher = compileCodeowners(parsed);
  const lookupMs = bestOfMs(() => {
    for (const path of paths) matcher.ownersOf(path);
  });

  // Work per lookup, and a check that the index changes nothing: every answer equals the naive scan.
  const naive = compileCodeownersNaive(parsed);
  let candidates = 0;
  let examined = 0;
  for (const path of paths) {
    const result = matcher.lookup(path);
    candidates += result.candidates;
    examined += result.examined;
    const expected = naive.ownersOf(path);
    if (result.match.line !== expected.line) {
      throw new Error(
        `indexed matcher disagrees with the naive scan on ${path}: ${result.match.line} vs ${expected.line}`,
      );
    }
  }

  return [
    atMost(`codeowners.compile_${RULES}_rules`, compileMs, "ms", 50),
    atMost(`codeowners.lookup_${PATHS}_paths`, lookupMs, "ms", 50),
    atMost("codeowners.candidates_per_lookup", candidates / paths.length, "rules", 16),
    atMost("codeowners.examined_per_lookup", examined / paths.length, "rules", 4),
  ];
}
