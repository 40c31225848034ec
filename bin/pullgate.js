#!/usr/bin/env node
// The package's bin. Runs the compiled CLI (dist/, built by `npm ci` through the prepare script);
// in a source checkout without dist/ it falls back to the TypeScript sources through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const compiled = `${root}dist/cli/main.js`;
let entry;
if (existsSync(compiled) && !process.env.PULLGATE_FROM_SOURCE) {
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import("tsx/esm/api");
  // The root tsconfig maps @pullgate/sandbox to its sources, so a checkout needs no build at all.
  register({ tsconfig: `${root}tsconfig.json` });
  entry = pathToFileURL(`${root}src/cli/main.ts`).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
