import { commands } from "./commands.js";
import { EXIT_OK, EXIT_USAGE, IoError, UsageError } from "./errors.js";
import { processIo, type CliIo } from "./io.js";

function help(): string {
  const names = Object.keys(commands);
  const width = Math.max(0, ...names.map((n) => n.length));
  const lines = names.map((name) => `  ${name.padEnd(width)}  ${commands[name]?.summary ?? ""}`);
  return [
    "pullgate: gate GitOps pull requests and publish signed approved-revision records",
    "",
    "Usage: pullgate <command> [options]   (pullgate <command> --help for its options)",
    "",
    "Commands:",
    ...lines,
    "",
    "Every command: --json prints one JSON document on stdout; exit 0 success, 1 failure verdict, 2 usage or I/O error.",
  ].join("\n");
}

/** Runs the CLI and returns the exit code; never calls process.exit itself (testable in-process). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(help());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === "--version") {
    io.stdout("0.1.0");
    return EXIT_OK;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (entry === undefined) {
    io.stderr(`pullgate: unknown command "${name}"\n\n${help()}`);
    return EXIT_USAGE;
  }
  const { command } = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`Usage: pullgate ${command.usage}\n\n${command.summary}`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`pullgate ${name}: ${error.message}\nUsage: pullgate ${command.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof IoError) {
      io.stderr(`pullgate ${name}: ${error.message}`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`pullgate ${name}: unexpected error: ${message}`);
    return EXIT_USAGE;
  }
}
