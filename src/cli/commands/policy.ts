import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import { mergePolicies } from "../../core/policy/merge.js";
import { parsePolicy } from "../../core/policy/parse.js";
import type { PolicyError } from "../../core/policy/types.js";

const USAGE = "policy lint [--org ORG_POLICY] [--json] FILE...";

/**
 * `pullgate policy lint FILE...`: validates policy files (YAML syntax, schema, semantics) and,
 * with `--org`, checks that each file only tightens the org policy. Errors print like a
 * compiler's (`file:line:column: message`), or as `{"errors":[{file,line,column,message}]}`.
 * Exit 0 clean, 1 any error, 2 usage or a file that cannot be read.
 */
export const command: Command = {
  usage: USAGE,
  summary: "Check policy files (.github/pullgate.yml): syntax, schema, semantics, org tightening",
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub !== "lint")
      throw new UsageError(sub === undefined ? "missing subcommand (lint)" : `unknown subcommand "${sub}"`);
    const { values, positionals } = parseCommandArgs(rest, { org: { type: "string" } });
    if (positionals.length === 0) throw new UsageError("no policy FILE given");

    const errors: PolicyError[] = [];
    let unreadable = false;
    const read = async (file: string): Promise<string | null> => {
      try {
        return await readFile(resolve(io.cwd, file), "utf8");
      } catch (error) {
        unreadable = true;
        io.stderr(
          `pullgate policy: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
        return null;
      }
    };

    let org: ReturnType<typeof parsePolicy> | null = null;
    if (values.org !== undefined) {
      const text = await read(values.org);
      if (text !== null) {
        org = parsePolicy(text, values.org);
        errors.push(...org.errors);
      }
    }
    for (const file of positionals) {
      const text = await read(file);
      if (text === null) continue;
      const result = parsePolicy(text, file);
      errors.push(...result.errors);
      if (org?.parsed && result.parsed) errors.push(...mergePolicies(org.parsed, result.parsed).errors);
    }

    if (values.json) {
      printJson(io, { errors });
    } else {
      for (const e of errors) io.stdout(`${e.file}:${e.line}:${e.column}: ${e.message}`);
      const files = positionals.length + (values.org === undefined ? 0 : 1);
      io.stderr(errors.length === 0 ? `${files} policy file(s): no errors` : `${errors.length} error(s)`);
    }
    if (unreadable) return EXIT_USAGE;
    return errors.length > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};
