/**
 * `npm run lint:layers`: the dependency rules of docs/architecture.md ("Layers"), run by
 * `npm run lint` and so by `npm test`.
 *
 * - dependency-cruiser applies the layer order of .dependency-cruiser.cjs to every module of src/
 *   (and of sandbox/, the emulator's package, once it exists).
 * - madge finds import cycles, type-only imports included, in src/ and sandbox/src/. src/sandbox is
 *   left out of the cycle check while the emulator still lives there: its own cycles are being
 *   broken by its move to sandbox/, which this check then covers.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseResult } from "dependency-cruiser";

export interface MadgeResult {
  circular(): string[][];
}
type Madge = (paths: string[], config: Record<string, unknown>) => Promise<MadgeResult>;
// madge ships no types: its default export is the function typed above.
const madge = createRequire(import.meta.url)("madge") as Madge;

/**
 * Cycles known and left on purpose, each a list of repository paths in madge's order. Each one
 * must still exist: when it is broken, delete its entry.
 */
export const KNOWN_CYCLES: readonly (readonly string[])[] = [];

/** The directories whose modules are checked, relative to `root`, the ones that exist. */
export function checkedRoots(root: string): { layers: string[]; cycles: string[] } {
  const present = (dir: string) => existsSync(resolve(root, dir));
  return {
    layers: ["src", "sandbox"].filter(present),
    cycles: ["src", "sandbox/src"].filter(present),
  };
}

export async function layerViolations(root: string, dirs: string[]): Promise<string[]> {
  const config = createRequire(import.meta.url)(resolve(root, ".dependency-cruiser.cjs")) as {
    forbidden: unknown;
    options: Record<string, unknown>;
  };
  const result = await cruise(dirs, {
    ...config.options,
    baseDir: root,
    ruleSet: { forbidden: config.forbidden } as never,
    validate: true,
    tsConfig: { fileName: resolve(root, "tsconfig.json") },
  });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map(
    (violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`,
  );
}

export async function importCycles(root: string, dirs: string[]): Promise<string[][]> {
  if (dirs.length === 0) return [];
  const result = await madge(
    dirs.map((dir) => resolve(root, dir)),
    {
      baseDir: root,
      fileExtensions: ["ts"],
      tsConfig: resolve(root, "tsconfig.json"),
      // The emulator's cycles are excluded while it lives in src/sandbox (see above).
      excludeRegExp: [/^src\/sandbox\//, /\.d\.ts$/],
      detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
    },
  );
  return result.circular();
}

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((path, i) => path === b[i]);

/** The problems to report: unknown cycles, and known ones that no longer exist. */
export function cycleProblems(cycles: string[][], known: readonly (readonly string[])[]): string[] {
  const problems = cycles
    .filter((cycle) => !known.some((k) => same(k, cycle)))
    .map((cycle) => `import cycle: ${[...cycle, cycle[0]].join(" → ")}`);
  for (const k of known) {
    if (!cycles.some((cycle) => same(k, cycle)))
      problems.push(
        `known cycle ${k.join(" ↔ ")} is gone: delete it from KNOWN_CYCLES in test/layering/check.ts`,
      );
  }
  return problems;
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
  const dirs = checkedRoots(root);
  const problems = [
    ...(await layerViolations(root, dirs.layers)),
    ...cycleProblems(await importCycles(root, dirs.cycles), KNOWN_CYCLES),
  ];
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`${problems.length} dependency problem(s): docs/architecture.md, "Layers"`);
    process.exitCode = 1;
  } else {
    console.log(`layers and cycles: ok (${[...new Set([...dirs.layers, ...dirs.cycles])].join(", ")})`);
  }
}

if (process.argv[1] !== undefined && relative(process.argv[1], fileURLToPath(import.meta.url)) === "") {
  await main();
}
