/**
 * The layer rule (docs/architecture.md, "Layers"): a module imports its own layer and the layers
 * below it, never a sibling or a layer above; core and the emulator import nothing of the product
 * outside themselves, record only core. `npm run lint` runs it (`npm run lint:layers`).
 */

// Lowest first. Layers of the same rank are siblings and independent of each other. An isolated
// layer imports nothing of the product but itself (npm packages and node: modules still allowed;
// ESLint keeps Probot, Octokit and I/O out of core and record). `usedBy` limits who may import a
// layer: the emulator is a test and demo tool, never part of the product's runtime.
const LAYERS = [
  { name: "core", rank: 0, path: "^src/core/", isolated: true },
  { name: "record", rank: 1, path: "^src/record/" },
  { name: "git", rank: 2, path: "^src/git/" },
  { name: "errors", rank: 2, path: "^src/errors\\.ts$" },
  { name: "metrics", rank: 2, path: "^src/metrics\\.ts$" },
  { name: "webhook", rank: 3, path: "^src/webhook/" },
  { name: "github", rank: 3, path: "^src/github/" },
  { name: "agent", rank: 3, path: "^src/agent/" },
  { name: "setup", rank: 3, path: "^src/setup/" },
  { name: "sandbox", rank: 3, path: "^src/sandbox/", isolated: true, usedBy: ["demo", "cli"] },
  // The emulator as its own package (issue 16): the same rule, wherever it lives.
  { name: "sandbox-package", rank: 3, path: "^sandbox/", isolated: true, usedBy: ["demo", "cli"] },
  { name: "app", rank: 4, path: "^src/app\\.ts$" },
  { name: "server", rank: 5, path: "^src/server\\.ts$" },
  { name: "demo", rank: 6, path: "^src/demo/" },
  { name: "cli", rank: 7, path: "^src/cli/" },
];

const TEST = "\\.test\\.ts$";

function allowed(layer) {
  if (layer.isolated) return [];
  return LAYERS.filter(
    (other) => other.rank < layer.rank && (other.usedBy === undefined || other.usedBy.includes(layer.name)),
  ).map((other) => other.name);
}

const layerRules = LAYERS.map((layer) => {
  const ok = new Set([layer.name, ...allowed(layer)]);
  const forbiddenPaths = LAYERS.filter((other) => !ok.has(other.name)).map((other) => other.path);
  return {
    name: `layer-${layer.name}`,
    severity: "error",
    comment: `src/${layer.name} may import only: ${[...ok].join(", ")} (docs/architecture.md, "Layers")`,
    from: { path: layer.path, pathNot: [TEST, "^sandbox/test/"] },
    to: { path: [...forbiddenPaths, "^(test|bench|bin)/"] },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "layer-unknown",
      severity: "error",
      comment: "every module under src/ belongs to a layer: add it to LAYERS in .dependency-cruiser.cjs",
      from: { path: "^src/", pathNot: [TEST, ...LAYERS.map((layer) => layer.path)] },
      to: {},
    },
    {
      name: "not-resolvable",
      severity: "error",
      comment: "a relative import the check cannot resolve would escape every rule above",
      from: { path: "^(src|sandbox)/" },
      to: { couldNotResolve: true, path: "^\\." },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|coverage|node_modules)/" },
    tsConfig: { fileName: "tsconfig.json" },
    // Type-only imports are dependencies too: a type from a layer above is still a layer violation.
    tsPreCompilationDeps: true,
  },
};
