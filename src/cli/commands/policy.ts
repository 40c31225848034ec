import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, IoError, UsageError } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import { policyDigest } from "../../core/policy/digest.js";
import { effectivePolicy } from "../../core/policy/effective.js";
import { mergePolicies } from "../../core/policy/merge.js";
import { parsePolicy } from "../../core/policy/parse.js";
import type { PolicyError } from "../../core/policy/types.js";

const USAGE =
  "policy lint [--org ORG_POLICY] [--json] FILE... | policy show [--org ORG_POLICY] [--json] FILE";

/**
 * `pullgate policy lint FILE...`: validates policy files (YAML syntax, schema, semantics) and,
 * with `--org`, checks that each file only tightens the org policy. Errors print like a
 * compiler's (`file:line:column: message`), or as `{"errors":[{file,line,column,message}]}`.
 * Exit 0 clean, 1 any error, 2 usage or a file that cannot be read.
 *
 * `pullgate policy show FILE`: the effective policy (after defaults and the `--org` merge) and
 * its digest, as JSON: `{"policy", "digest", "errors"}`. Exit 1 if there are errors.
 */
export const command: Command = {
  usage: USAGE,
  summary: "Check policy files (.github/pullgate.yml) or show the effective policy and its digest",
  async run(argv: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === "lint") return lint(rest, io);
    if (sub === "show") return show(rest, io);
    throw new UsageError(
      sub === undefined ? "missing subcommand (lint or show)" : `unknown subcommand "${sub}"`,
    );
  },
};

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function lint(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { org: { type: "string" } });
  if (positionals.length === 0) throw new UsageError("no policy FILE given");

  const errors: PolicyError[] = [];
  let unreadable = false;
  // An unreadable file is reported and the others are still linted; the exit code is then 2.
  const read = async (file: string): Promise<string | null> => {
    try {
      return await readFile(resolve(io.cwd, file), "utf8");
    } catch (error) {
      unreadable = true;
      io.stderr(`pullgate policy: cannot read ${file}: ${describeError(error)}`);
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
}

async function show(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { org: { type: "string" } });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("policy show takes exactly one FILE");
  const read = async (path: string) => {
    try {
      return { text: await readFile(resolve(io.cwd, path), "utf8"), file: path };
    } catch (error) {
      throw new IoError(`cannot read ${path}: ${describeError(error)}`);
    }
  };
  const org = values.org === undefined ? null : await read(values.org);
  const result = effectivePolicy(org, await read(file));
  const digest = result.policy === null ? null : policyDigest(result.policy);
  if (values.json) {
    printJson(io, { policy: result.policy, digest, errors: result.errors });
  } else {
    for (const e of result.errors) io.stderr(`${e.file}:${e.line}:${e.column}: ${e.message}`);
    if (result.policy !== null) io.stdout(`${JSON.stringify(result.policy, null, 2)}\ndigest: ${digest}`);
  }
  return result.errors.length > 0 || result.policy === null ? EXIT_FAILURE : EXIT_OK;
}
