/**
 * `pullgate demo`: builds the world (in DIR with --keep, else in a temp dir removed afterwards),
 * plays every step, and returns the document of docs/architecture.md, "CLI contract".
 */
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Observations } from "./observations.js";
import { ENVIRONMENT, gitopsPolicy } from "./seed.js";
import { STEPS, type DemoContext, type StepDefinition, type StepName } from "./steps.js";
import { startWorld } from "./world.js";

export interface DemoStepResult {
  name: StepName;
  ok: boolean;
  detail: string;
}

export interface DemoReport {
  ok: boolean;
  steps: DemoStepResult[];
  /** The sandbox's bare repository of acme/gitops (gone after the run unless --keep). */
  repository: string;
  environment: string;
  /** The app's public key (.asc). */
  keys: string;
  /** The newest record commit, or null if none was published. */
  record: string | null;
}

export interface DemoOptions {
  /** Leave everything in this directory (must be absent or empty). */
  keep?: string;
  /** Called as each step finishes (the text narration streams through it). */
  onStep?: (step: StepDefinition, result: DemoStepResult, index: number) => void;
  /** The sandbox's strict mode (GitHub's contract checked; default on; `--no-strict` turns it off). */
  strict?: boolean;
  /** Called once the world is up, before the first step. */
  onReady?: (info: { root: string; apiUrl: string; serverUrl: string }) => void;
}

/** The demo's directory problems are the caller's (exit 2), not a failed step. */
export class DemoDirectoryError extends Error {
  override readonly name = "DemoDirectoryError";
}

async function prepareRoot(keep: string | undefined): Promise<string> {
  if (keep === undefined) return mkdtemp(join(tmpdir(), "pullgate-demo-"));
  const root = resolve(keep);
  try {
    await mkdir(root, { recursive: true });
    const entries = await readdir(root);
    if (entries.length > 0)
      throw new DemoDirectoryError(`${root} is not empty; --keep needs a new or empty directory`);
  } catch (error) {
    if (error instanceof DemoDirectoryError) throw error;
    throw new DemoDirectoryError(`cannot use ${root}: ${(error as Error).message}`);
  }
  return root;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const root = await prepareRoot(options.keep);
  const keysPath = join(root, "app-public.asc");
  const scratch = join(root, "scratch");
  try {
    await mkdir(scratch, { recursive: true });
    const world = await startWorld({
      root,
      policy: gitopsPolicy({ lastPushApproval: true }),
      sandboxStrict: options.strict ?? true,
    });
    try {
      await writeFile(keysPath, world.recordPublicKey);
      options.onReady?.({ root, apiUrl: world.sandbox.apiUrl, serverUrl: world.server.url });
      const ctx: DemoContext = { world, keysPath, scratch, records: [] };
      const steps: DemoStepResult[] = [];
      for (const [index, step] of STEPS.entries()) {
        const seen = new Observations();
        try {
          await step.run(ctx, seen);
        } catch (error) {
          seen.fail(`error: ${error instanceof Error ? error.message : String(error)}`);
        }
        const result = { name: step.name, ok: seen.ok, detail: seen.detail() };
        steps.push(result);
        options.onStep?.(step, result, index);
      }
      return {
        ok: steps.every((s) => s.ok),
        steps,
        repository: world.bareRepository,
        environment: ENVIRONMENT,
        keys: keysPath,
        record: ctx.records[ctx.records.length - 1]?.sha ?? null,
      };
    } finally {
      await world.close();
    }
  } finally {
    if (options.keep === undefined) await rm(root, { recursive: true, force: true });
  }
}
