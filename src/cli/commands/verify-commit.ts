import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "../command.js";
import { parseCommandArgs, requireOption } from "../args.js";
import { EXIT_FAILURE, EXIT_OK, IoError, UsageError } from "../errors.js";
import { printJson, type CliIo } from "../io.js";
import { loadKeyring, type KeyringSource } from "../../core/signatures/keyring.js";
import { verifyCommitSignature } from "../../core/signatures/verify.js";
import type { SignatureVerdict } from "../../core/signatures/types.js";
import { GitError, objectFormat, readRawCommit, resolveCommit } from "../../git/objects.js";

const USAGE = "verify-commit --repo DIR --keys PATH [--json] REV...";

/** A keys PATH: a file (armored OpenPGP or allowed_signers, told apart by content) or a folder (*.asc + allowed_signers). */
async function readKeySource(path: string): Promise<KeyringSource> {
  const source: KeyringSource = { openpgp: [], sshAllowedSigners: null };
  const add = (name: string, text: string) => {
    if (name.endsWith(".asc") || text.includes("-----BEGIN PGP ")) source.openpgp.push(text);
    else if (source.sshAllowedSigners === null) source.sshAllowedSigners = text;
    else throw new IoError(`${name}: a second allowed_signers file`);
  };
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new IoError(`cannot read keys ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    if (info.isDirectory()) {
      const names = (await readdir(path)).sort();
      const wanted = names.filter((n) => n.endsWith(".asc") || n === "allowed_signers");
      if (wanted.length === 0) throw new IoError(`${path}: no *.asc keys and no allowed_signers file`);
      for (const name of wanted) add(name, await readFile(join(path, name), "utf8"));
    } else add(path, await readFile(path, "utf8"));
  } catch (error) {
    if (error instanceof IoError) throw error;
    throw new IoError(`cannot read keys ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return source;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    repo: { type: "string" },
    keys: { type: "string" },
  });
  const repo = resolve(io.cwd, requireOption(values.repo, "repo"));
  const keysPath = resolve(io.cwd, requireOption(values.keys, "keys"));
  if (positionals.length === 0) throw new UsageError("at least one REV is required");

  const keyring = await loadKeyring(await readKeySource(keysPath));
  for (const error of keyring.errors) io.stderr(`pullgate verify-commit: warning: ${error}`);
  let format: "sha1" | "sha256";
  try {
    format = await objectFormat(repo);
  } catch (error) {
    throw new IoError(
      `${repo}: not a git repository (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const now = new Date();
  const results: SignatureVerdict[] = [];
  for (const rev of positionals) {
    let raw: Uint8Array;
    try {
      raw = await readRawCommit(repo, await resolveCommit(repo, rev));
    } catch (error) {
      if (error instanceof GitError) throw new IoError(error.message);
      throw error;
    }
    results.push(await verifyCommitSignature(raw, keyring, { now, objectFormat: format }));
  }
  if (values.json) printJson(io, { results, keyringDigest: keyring.digest });
  else
    for (const r of results)
      io.stdout(
        `${r.commit} ${r.verified ? "verified" : "NOT VERIFIED"} (${r.format}) ${r.signer ?? "-"}: ${r.reason}`,
      );
  return results.every((r) => r.verified) ? EXIT_OK : EXIT_FAILURE;
}

export const command: Command = {
  usage: USAGE,
  summary:
    "Verify commit signatures against OpenPGP keys and/or an SSH allowed_signers file, as git verify-commit does",
  run,
};
