import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseCommandArgs, requireOption } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, IoError, UsageError } from "../errors.js";
import { printJson } from "../io.js";
import { compileCodeowners } from "../../core/codeowners/match.js";
import { CODEOWNERS_MAX_BYTES, parseCodeowners } from "../../core/codeowners/parse.js";

/**
 * `pullgate owners --codeowners FILE [--json] PATH...`: the owners of each path under GitHub's
 * CODEOWNERS semantics. Exit 0 if the file has no errors, 1 if it has some (the results are still
 * printed, computed as GitHub would, skipping the bad lines): so CI can lint CODEOWNERS with it.
 * Exit 2 for a missing or unreadable file, or no paths.
 *
 * Imports only the CODEOWNERS core, so it starts fast.
 */

/** Paths as a person types them: "./apps/x" and "/apps/x" both mean the repository path "apps/x". */
function repositoryPath(path: string): string {
  let p = path;
  while (p.startsWith("./")) p = p.slice(2);
  return p.replace(/^\/+/, "");
}

async function readCodeowners(file: string): Promise<{ text: string; size: number }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new IoError(`${file}: not a regular file`);
    // Past the limit GitHub ignores the file: do not read megabytes only to say so.
    if (info.size >= CODEOWNERS_MAX_BYTES) return { text: "", size: info.size };
    return { text: await readFile(file, "utf8"), size: info.size };
  } catch (error) {
    if (error instanceof IoError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new IoError(`cannot read ${file}${code ? ` (${code})` : ""}`);
  }
}

export const command: Command = {
  usage: "owners --codeowners FILE [--json] PATH...",
  summary: "Show the code owners of paths under GitHub's CODEOWNERS rules; exit 1 if the file has errors.",
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { codeowners: { type: "string" } });
    const file = requireOption(values.codeowners, "codeowners");
    if (positionals.length === 0) throw new UsageError("give at least one PATH");

    const { text, size } = await readCodeowners(resolve(io.cwd, file));
    const parsed = parseCodeowners(text, { sizeBytes: size });
    const matcher = compileCodeowners(parsed);
    const results = positionals.map((path) => {
      const match = matcher.ownersOf(repositoryPath(path));
      return { path, owners: match.owners, line: match.line };
    });
    const errors = parsed.errors.map(({ line, column, kind, message }) => ({ line, column, kind, message }));

    if (values.json === true) {
      printJson(io, { results, errors });
    } else {
      const width = Math.max(...results.map((r) => r.path.length));
      for (const r of results) {
        io.stdout(`${r.path.padEnd(width)}  ${r.owners.length > 0 ? r.owners.join(" ") : "(no owners)"}`);
      }
    }
    for (const error of errors) io.stderr(`${file}: ${error.message}`);
    return errors.length > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};
