import type { Command } from "../command.js";
import { parseCommandArgs } from "../args.js";
import { EXIT_FAILURE, EXIT_OK, IoError } from "../errors.js";
import { printJson } from "../io.js";
import { rmSync } from "node:fs";
import { resolve } from "node:path";

/**
 * `pullgate demo`: the whole story (PRs blocked and passed, records published, a direct push
 * alerted, an agent verifying) played locally through the real app and the sandbox. Text mode
 * narrates each step as it finishes; --json prints the one document of the CLI contract
 * (docs/architecture.md, "CLI contract"). Exit 0 only if every step saw the outcome pullgate must
 * produce.
 */
export const command: Command = {
  usage: "demo [--keep DIR] [--no-strict] [--json]",
  summary: "Run the whole pullgate story locally (sandbox GitHub + the real app) and narrate it",
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      { keep: { type: "string" }, "no-strict": { type: "boolean", default: false } },
      false,
    );
    const keep = values.keep === undefined ? undefined : resolve(io.cwd, values.keep);
    const json = values.json === true;
    const { runDemo, DemoDirectoryError } = await import("../../demo/run.js");
    const { narrateIntro, narrateStep, narrateSummary } = await import("../../demo/narrate.js");
    // Interrupted (Ctrl-C), the temp dir would be left behind: remove it, then die of the signal.
    let temporaryRoot: string | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (temporaryRoot !== undefined) rmSync(temporaryRoot, { recursive: true, force: true });
      process.kill(process.pid, signal);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let report;
    try {
      report = await runDemo({
        ...(keep === undefined ? {} : { keep }),
        // --no-strict: the sandbox stops checking requests against GitHub's description.
        strict: values["no-strict"] !== true,
        onReady: (info) => {
          if (keep === undefined) temporaryRoot = info.root;
          if (!json) io.stdout(narrateIntro(info));
        },
        onStep: (step, result, index) => {
          if (json) io.stderr(`demo: ${result.ok ? "ok  " : "FAIL"} ${step.name}`);
          else io.stdout(narrateStep(step, result, index));
        },
      });
    } catch (error) {
      if (error instanceof DemoDirectoryError) throw new IoError(error.message);
      throw new IoError(`the demo could not run: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (json) printJson(io, report);
    else io.stdout(narrateSummary(report, keep !== undefined));
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  },
};
