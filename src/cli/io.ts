/** Where a command writes: stdout for results (one JSON document with --json), stderr for messages. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Environment variables the command may read (GITHUB_TOKEN, ...). */
  env: Readonly<Record<string, string | undefined>>;
  /** Working directory that relative paths resolve against. */
  cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
    stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Prints one JSON document on stdout (the `--json` contract). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2));
}
